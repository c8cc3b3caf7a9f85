// Post-build step for the strict CSP the API sends (script-src 'self'; style-src 'self'):
// SvelteKit writes its bootstrap as an inline <script> into every HTML page. This moves each
// inline script into a content-hashed file under <build>/_app/immutable/entry/ and references it
// with <script src>. It stays a classic script at the same place in the document, so
// `document.currentScript.parentElement` (the mount target) still works.
// It then refuses the build if any page still holds something the CSP would block: inline
// scripts, inline event handlers, <style> elements or style attributes.
//
// Usage: node scripts/externalize-inline-scripts.ts <build-dir>
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const SCRIPT = /<script\b([^>]*)>([\s\S]*?)<\/script>/gi;
const OUT_DIR = '_app/immutable/entry';

/** Script types the browser executes; data blocks (application/json, …) are not subject to script-src. */
function isExecutable(attrs: string): boolean {
  const type = /\btype\s*=\s*["']?([^"'\s>]+)/i.exec(attrs)?.[1]?.toLowerCase();
  return type === undefined || type === 'module' || type === 'text/javascript' || type === 'application/javascript';
}

function htmlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.html'))
    .map((e) => path.join(e.parentPath, e.name));
}

/** Replaces inline scripts in one page; returns the new HTML and how many scripts moved. */
export function externalize(html: string, buildDir: string, base = ''): { html: string; moved: number } {
  let moved = 0;
  const out = html.replace(SCRIPT, (whole, attrs: string, body: string) => {
    if (/\bsrc\s*=/i.test(attrs) || !isExecutable(attrs) || body.trim() === '') return whole;
    const code = dedent(body).trim() + '\n';
    const hash = createHash('sha256').update(code).digest('base64url').slice(0, 12);
    const name = `${OUT_DIR}/bootstrap.${hash}.js`;
    mkdirSync(path.join(buildDir, OUT_DIR), { recursive: true });
    writeFileSync(path.join(buildDir, name), code);
    moved++;
    return `<script${attrs} src="${base}/${name}"></script>`;
  });
  return { html: out, moved };
}

function dedent(text: string): string {
  const lines = text.replace(/^\n+/, '').split('\n');
  const indents = lines.filter((l) => l.trim()).map((l) => /^[\t ]*/.exec(l)![0].length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(cut)).join('\n');
}

/** Everything the CSP would block in a page, as human-readable findings. */
export function cspFindings(html: string): string[] {
  const findings: string[] = [];
  for (const m of html.matchAll(SCRIPT)) {
    if (!/\bsrc\s*=/i.test(m[1]) && isExecutable(m[1]) && m[2].trim() !== '') findings.push('inline <script>');
  }
  if (/<style\b/i.test(html)) findings.push('<style> element');
  if (/<[a-z][^>]*\sstyle\s*=/i.test(html)) findings.push('style= attribute');
  if (/<[a-z][^>]*\son[a-z]+\s*=/i.test(html)) findings.push('inline event handler (on…=)');
  if (/\bjavascript:/i.test(html)) findings.push('javascript: URL');
  return findings;
}

function main(): void {
  const buildDir = path.resolve(process.argv[2] ?? 'build');
  const base = process.env.PRAXISKERN_WEB_BASE ?? '';
  const files = htmlFiles(buildDir);
  if (files.length === 0) throw new Error(`no HTML files under ${buildDir}: run vite build first`);
  let total = 0;
  const problems: string[] = [];
  for (const file of files) {
    const { html, moved } = externalize(readFileSync(file, 'utf8'), buildDir, base);
    if (moved) writeFileSync(file, html);
    total += moved;
    for (const f of cspFindings(html)) problems.push(`${path.relative(buildDir, file)}: ${f}`);
  }
  if (problems.length) {
    process.stderr.write(`CSP check failed, the API's Content-Security-Policy would block:\n  ${problems.join('\n  ')}\n`);
    process.exit(1);
  }
  process.stdout.write(`externalized ${total} inline script(s) in ${files.length} page(s); no inline scripts or styles left\n`);
}

if (import.meta.main) main();
