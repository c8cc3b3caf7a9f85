// Headless Chromium for the end-to-end tests: one launch helper, a page that records every
// console message and page error, and an axe-core runner that works under the app's strict CSP.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.PRAXISKERN_CHROMIUM ?? '/usr/bin/chromium';

/** `extraArgs` e.g. ['--lang=en-US'] for a browser whose own language is English. */
export function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}

export interface ObservedPage {
  context: BrowserContext;
  page: Page;
  /** Every console message and uncaught page error, in order, as "type: text". */
  console: string[];
  /** Console lines that report a Content-Security-Policy violation. */
  cspViolations(): string[];
}

/**
 * A fresh context (own cookies, the browser's language `locale`, optionally the browser's own time
 * zone `timezoneId`, else the machine's) with a page whose console output is recorded.
 */
export async function observedPage(browser: Browser, baseURL: string, locale = 'de-DE', timezoneId?: string): Promise<ObservedPage> {
  const context = await browser.newContext({ baseURL, locale, timezoneId, viewport: { width: 1280, height: 860 } });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const lines: string[] = [];
  page.on('console', (m) => lines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => lines.push(`pageerror: ${e.message}`));
  return {
    context,
    page,
    console: lines,
    cspViolations: () => lines.filter((l) => /Content Security Policy/i.test(l)),
  };
}

export interface AxeViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core on the current page. The script is injected through the DevTools protocol
 * (page.evaluate), which the page's CSP does not govern, so the app's CSP stays strict.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  return page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
  })))`) as Promise<AxeViolation[]>;
}

/** The serious and critical violations, formatted for an assertion message. */
export function seriousViolations(violations: AxeViolation[]): string[] {
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Runs the steps; if one throws, keeps a full-page screenshot for the failure report. */
export async function screenshotOnFailure<T>(page: Page, name: string, steps: () => Promise<T>, log: (message: string) => void): Promise<T> {
  try {
    return await steps();
  } catch (err) {
    const file = path.join(tmpdir(), `praxiskern-e2e-${name}-${Date.now()}.png`);
    await page.screenshot({ path: file, fullPage: true }).then(
      () => log(`screenshot of the failure: ${file} (at ${page.url()})`),
      () => undefined,
    );
    throw err;
  }
}
