// Issue 12 "Measure": keystroke → results shown in the quick search, from the browser (Chromium
// via playwright-core), with N demo patients (default 100,000), against the API call alone
// (POST /patients/search with the same text, from the same page, same session) in the same run.
//   node bench/search-keystroke.ts [--patients 100000] [--samples 120]
// A sample: the field holds all but the last letter, the last key is pressed; the clock runs from
// that keydown (in the page) to the listbox showing the answer for the whole text (its
// data-results-for attribute), after the next frame. It includes the debounce (DEBOUNCE_MS), so
// the ratio is also given without it. Data: bench/patients-load.ts in a child process (bulk).
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { runWithContext, systemContext } from '../app/api/src/core/context.ts';
import { withScope } from '../app/api/src/db/connection.ts';
import { searchKey } from '../app/api/src/modules/patients/patient.crypto.ts';
import { resolveQuestionnaire } from '../app/api/src/modules/records/questionnaire.service.ts';
import { DEBOUNCE_MS } from '../app/web/src/lib/patient-search.ts';
import { startTestApp, setupInstance } from '../tests/helpers/app.ts';
import { launchBrowser } from '../tests/helpers/browser.ts';
import { fmt, percentile, PRODUCTION_LIKE } from './lib.ts';
import type { LoadRequest } from './patients-load.ts';

const { values } = parseArgs({ options: { patients: { type: 'string', default: '100000' }, samples: { type: 'string', default: '120' } } });
const N = Number(values.patients), SAMPLES = Number(values.samples);
const t0 = Date.now();
const say = (s: string) => process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(0)}s] ${s}\n`);

const app = await startTestApp(PRODUCTION_LIKE);
const setup = await setupInstance(app);
const { organizationId, userId } = setup;
const actor = { userId, organizationId, roles: ['admin' as const], sessionId: userId };
const { q, sKey } = await runWithContext(systemContext('bench', actor), () => withScope(app.services.db, { organizationId, userId }, async (trx) => ({
  q: await resolveQuestionnaire(trx, organizationId, 'anamnesis', 1),
  sKey: await app.services.keys.blobKey(trx, searchKey(organizationId)),
})));
const request: LoadRequest = {
  superuserUrl: app.db.superuserUrl, organizationId, userId, patients: N, audit: 0, masterKeyHex: app.services.seal.masterKey().toString('hex'),
  searchKeyHex: sKey.toString('hex'), questionnaire: { id: q.id, definition: q.definition },
};
const loader = fork(new URL('./patients-load.ts', import.meta.url), { stdio: 'inherit' });
const loaded = await new Promise<{ patientSeconds: number }>((resolve, reject) => {
  loader.once('message', (m) => resolve(m as never));
  loader.once('exit', (code) => reject(new Error(`loader exited with ${code}`)));
  loader.send(request);
});
say(`${N} demo patients loaded in ${loaded.patientSeconds.toFixed(1)} s`);

// The browser signs in with the API session of the set-up admin (cookies), and opens the start page.
const browser = await launchBrowser();
const context = await browser.newContext({ baseURL: app.url, locale: 'de-DE', viewport: { width: 1366, height: 900 } });
const host = new URL(app.url).hostname;
await context.addCookies(['pk_session', 'pk_csrf'].map((name) => ({ name, value: setup.client.cookies.get(name)!, domain: host, path: '/' })));
const page = await context.newPage();
page.on('pageerror', (e) => say(`pageerror: ${e.message}`));
page.on('close', () => say('page closed'));
await page.goto('/');
await page.locator('#quick-search').waitFor();

// Realistic search texts: name beginnings of 4–6 letters (a few hundred to a few thousand matches
// among 100,000), a given + family name, a birth date with a name.
const TEXTS = ['Müll', 'Schmi', 'Weber', 'Hoffm', 'Yılma', 'Anna Wagn', 'Lukas Schn', 'Kaya Elif', 'Zimmerm', 'Kruege', 'Nasse', 'Schwarz'];
const texts = Array.from({ length: SAMPLES }, (_, i) => TEXTS[i % TEXTS.length]);

/** The little of the DOM the bench reads in the page (the tsconfig has no DOM types). */
type El = { dataset: Record<string, string>; addEventListener(t: string, f: () => void, o?: object): void };
declare const document: { getElementById(id: string): El; cookie: string };
declare function requestAnimationFrame(f: () => void): void;
declare const window: unknown;
declare class MutationObserver { constructor(f: () => void); observe(el: El, o: object): void; disconnect(): void }

const ui: number[] = [];
const apiMs: number[] = [];
const input = page.locator('#quick-search');
for (const [i, text] of texts.entries()) {
  await input.fill('');
  await page.keyboard.press('Escape');
  await input.fill(text.slice(0, -1));
  await page.evaluate(() => {
    const w = window as unknown as { __kd: number };
    w.__kd = 0;
    document.getElementById('quick-search').addEventListener('keydown', () => (w.__kd = performance.now()), { once: true });
  });
  const shown = page.evaluate((want) => new Promise<number>((resolve) => {
    const w = window as unknown as { __kd: number };
    const list = document.getElementById('quick-search-list');
    const check = () => {
      if (w.__kd && list.dataset.resultsFor === want) {
        obs.disconnect();
        const at = performance.now();
        requestAnimationFrame(() => resolve(Math.max(at, performance.now()) - w.__kd));
        return true;
      }
      return false;
    };
    const obs = new MutationObserver(check);
    obs.observe(list, { attributes: true, childList: true, subtree: true, characterData: true });
    check();
  }), text);
  await page.keyboard.press(text.slice(-1));
  if (process.env.BENCH_DEBUG) {
    await new Promise((r) => setTimeout(r, 2000));
    say(`debug: url ${page.url()} value ${await input.inputValue()} status ${await page.locator('.qs-status').textContent()} for ${await page.locator('#quick-search-list').getAttribute('data-results-for')}`);
  }
  ui.push(await shown);
  // The API call alone, same text, same session, from the page (fetch; JSON parsed).
  apiMs.push(await page.evaluate(async (body) => {
    const csrf = /(?:^|; )pk_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '';
    const start = performance.now();
    const res = await fetch('/api/v1/patients/search', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify(body), credentials: 'same-origin' });
    await res.json();
    return performance.now() - start;
  }, { q: text, limit: 25 }));
  if (i === 0) say('first sample done (warm-up included in the figures)');
}
const totals = await page.evaluate(async () => {
  const csrf = /(?:^|; )pk_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '';
  const out: Record<string, number> = {};
  for (const q of ['Müll', 'Schmi', 'Anna Wagn']) {
    const r = await fetch('/api/v1/patients/search', { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: JSON.stringify({ q, limit: 25 }) });
    out[q] = ((await r.json()) as { total: number }).total;
  }
  return out;
});

const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
const u = sorted(ui), a = sorted(apiMs);
const [u50, u95, a50, a95] = [percentile(u, 50), percentile(u, 95), percentile(a, 50), percentile(a, 95)];
say(`matches per text (of ${N}): ${JSON.stringify(totals)}`);
console.log(`\nkeystroke → results shown (Chromium, ${SAMPLES} samples, ${N} patients, debounce ${DEBOUNCE_MS} ms)`);
console.log(`  UI   keystroke→shown  p50 ${fmt(u50, 1)} ms   p95 ${fmt(u95, 1)} ms`);
console.log(`  API  POST /patients/search  p50 ${fmt(a50, 1)} ms   p95 ${fmt(a95, 1)} ms`);
console.log(`  ratio UI/API           p50 ${fmt(u50 / a50)}×   p95 ${fmt(u95 / a95)}×`);
console.log(`  ratio (UI − debounce)/API p50 ${fmt((u50 - DEBOUNCE_MS) / a50)}×   p95 ${fmt((u95 - DEBOUNCE_MS) / a95)}×`);

await browser.close();
await app.stop();
await app.db.drop();
