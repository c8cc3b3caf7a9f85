// Builds a signed Praxiskern release bundle (docs/update.md, "Building and signing a release"):
//
//   npm run bundle -- --version 1.2.0 --key ~/.praxiskern-release/key [--notes notes.md]
//                     [--updates-from 1.0.0] [--out dist/] [--no-build]
//
// builds the images with appliance/docker/build-images.sh (BASE_IMAGE passes through; --no-build takes images already tagged praxiskern/<name>:<version>), writes
// praxiskern-<version>.tar (manifest.json, images/*.tar, compose/, RELEASE-NOTES.md) and signs it
// with OpenSSH: praxiskern-<version>.tar.sig (`ssh-keygen -Y sign`, namespace praxiskern-release).
// The server verifies both with appliance/host/praxiskern-host.py against the pinned public key.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

export const FORMAT = 'praxiskern-release/1';
export const NAMESPACE = 'praxiskern-release';
const IMAGES = ['app', 'postgres', 'proxy'] as const;
const COMPOSE_FILES = ['compose.yaml', 'auto-unseal.yaml', '.env.example'];
const VERSION = /^\d{1,6}\.\d{1,6}\.\d{1,6}(-[0-9A-Za-z][0-9A-Za-z.-]{0,63})?$/;

/** The migration names in the order they run (app/api/src/db/migrate.ts sorts the registered names). */
export function migrationNames(repo: string): string[] {
  const text = readFileSync(path.join(repo, 'app/api/src/db/migrate.ts'), 'utf8');
  const block = /export const MIGRATIONS[^{]*\{([\s\S]*?)\n\};/.exec(text);
  if (!block) throw new Error('app/api/src/db/migrate.ts: no MIGRATIONS table found');
  const names = [...block[1].matchAll(/^\s*'(\d{8}_\d{4}_[a-z0-9_]+)':/gm)].map((m) => m[1]);
  if (!names.length) throw new Error('app/api/src/db/migrate.ts: no migrations registered');
  return names.sort();
}

/** The secret files compose.yaml reads (every one must exist on the server before an update). */
export function requiredSecrets(composeYaml: string): string[] {
  return [...composeYaml.matchAll(/file: \$\{PRAXISKERN_SECRETS_DIR:-\.\/secrets\}\/([a-z][a-z0-9_]*)/g)].map((m) => m[1]).sort();
}

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file).on('data', (d) => h.update(d)).on('error', reject).on('end', () => resolve(h.digest('hex')));
  });
}

function sh(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-3).join(' | ')}`);
  return r.stdout;
}

export interface BundleResult {
  bundle: string;
  signature: string;
  bytes: number;
  seconds: number;
}

export async function buildBundle(opts: { repo: string; version: string; key: string; notes?: string; updatesFrom?: string; out: string; build: boolean }): Promise<BundleResult> {
  const started = Date.now();
  if (!VERSION.test(opts.version)) throw new Error(`--version must be MAJOR.MINOR.PATCH[-PRE], got "${opts.version}"`);
  if (opts.updatesFrom !== undefined && !VERSION.test(opts.updatesFrom)) throw new Error(`--updates-from must be a version, got "${opts.updatesFrom}"`);
  if (!existsSync(opts.key)) throw new Error(`--key ${opts.key} does not exist (create it: ssh-keygen -t ed25519 -C praxiskern-release -f ${opts.key})`);
  // Bundles carry the images as praxiskern/<name>:<version>: the server loads them under that name
  // (PRAXISKERN_IMAGE_PREFIX=praxiskern), whatever registry the release machine pushes to.
  const prefix = 'praxiskern';
  if (opts.build) {
    sh(path.join(opts.repo, 'appliance/docker/build-images.sh'), ['--tag', opts.version], { env: { ...process.env, IMAGE_PREFIX: prefix } });
  }
  mkdirSync(opts.out, { recursive: true });
  const work = mkdtempSync(path.join(opts.out, '.bundle-'));
  try {
    mkdirSync(path.join(work, 'images'));
    mkdirSync(path.join(work, 'compose'));
    const images = [];
    for (const name of IMAGES) {
      const ref = `${prefix}/${name}:${opts.version}`;
      const imageId = sh('docker', ['image', 'inspect', '--format', '{{.Id}}', ref]).trim();
      const file = `images/${name}.tar`;
      sh('docker', ['save', '--output', path.join(work, file), ref]);
      images.push({ name, file, sha256: await sha256(path.join(work, file)), imageId });
    }
    const files = [];
    for (const f of COMPOSE_FILES) {
      copyFileSync(path.join(opts.repo, 'compose', f), path.join(work, 'compose', f));
      files.push({ path: `compose/${f}`, sha256: await sha256(path.join(work, 'compose', f)) });
    }
    const notes = opts.notes ? readFileSync(opts.notes, 'utf8') : `# Praxiskern ${opts.version}\n\nNo release notes.\n`;
    writeFileSync(path.join(work, 'RELEASE-NOTES.md'), notes);
    files.push({ path: 'RELEASE-NOTES.md', sha256: await sha256(path.join(work, 'RELEASE-NOTES.md')) });
    const manifest = {
      format: FORMAT,
      product: 'praxiskern',
      version: opts.version,
      minimumFrom: opts.updatesFrom ?? null,
      createdAt: new Date().toISOString(),
      migrations: migrationNames(opts.repo),
      images,
      files,
      requiredSecrets: requiredSecrets(readFileSync(path.join(opts.repo, 'compose/compose.yaml'), 'utf8')),
      releaseNotes: notes,
    };
    writeFileSync(path.join(work, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
    const bundle = path.join(opts.out, `praxiskern-${opts.version}.tar`);
    const tmp = `${bundle}.tmp`;
    sh('tar', ['--create', '--file', tmp, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mode=u+rw,go+r', '--directory', work,
      'manifest.json', 'RELEASE-NOTES.md', 'compose', 'images']);
    rmSync(`${tmp}.sig`, { force: true });
    sh('ssh-keygen', ['-q', '-Y', 'sign', '-f', opts.key, '-n', NAMESPACE, tmp]);
    renameSync(tmp, bundle);
    renameSync(`${tmp}.sig`, `${bundle}.sig`);
    return { bundle, signature: `${bundle}.sig`, bytes: statSync(bundle).size, seconds: Math.round((Date.now() - started) / 1000) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values: v } = parseArgs({
    options: {
      version: { type: 'string' }, key: { type: 'string' }, notes: { type: 'string' }, 'updates-from': { type: 'string' },
      out: { type: 'string', default: 'dist' }, 'no-build': { type: 'boolean' }, help: { type: 'boolean' },
    },
  });
  if (v.help || !v.version || !v.key) {
    process.stderr.write('usage: npm run bundle -- --version X.Y.Z --key PRIVATE-KEY [--notes FILE] [--updates-from X.Y.Z] [--out DIR] [--no-build]\n');
    process.exit(v.help ? 0 : 64);
  }
  const key = v.key.replace(/^~(?=\/)/, os.homedir());
  try {
    const r = await buildBundle({ repo: path.resolve(import.meta.dirname, '../..'), version: v.version, key, notes: v.notes, updatesFrom: v['updates-from'], out: path.resolve(v.out!), build: !v['no-build'] });
    process.stdout.write(`${r.bundle} (${(r.bytes / 2 ** 20).toFixed(0)} MiB) and ${path.basename(r.signature)} in ${r.seconds} s\n`);
  } catch (err) {
    process.stderr.write(`praxiskern bundle: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
