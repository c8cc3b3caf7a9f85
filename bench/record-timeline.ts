// Record open → timeline visible (issue 12, "Measure"): in headless Chromium, page.goto of a
// patient record until the Karteikarte's first line is visible (session check, the SvelteKit
// page, master data + record + timeline + consents requests, decryption, rendering), against the
// timeline API call alone (GET /patients/:id/timeline?limit=50, what the page's list waits for) in
// the same run. The patient has a realistic long record: BENCH_ENTRIES (300) entries across the
// modules (notes and findings, treatments, diagnoses, consents, appointments, messages).
// Run: npm run build && node bench/record-timeline.ts   (BENCH_ENTRIES, BENCH_OPENS (20), BENCH_CALLS (40))
import { rootLogger } from '../app/api/src/core/logger.ts';
import { startTestApp, setupInstance } from '../tests/helpers/app.ts';
import { launchBrowser } from '../tests/helpers/browser.ts';
import { fmt, percentile, PRODUCTION_LIKE } from './lib.ts';

rootLogger.level = 'silent';
const ENTRIES = Number(process.env.BENCH_ENTRIES || 300);
const OPENS = Number(process.env.BENCH_OPENS || 20);
const CALLS = Number(process.env.BENCH_CALLS || 40);

const app = await startTestApp(PRODUCTION_LIKE);
const { client } = await setupInstance(app);
const must = async (p: Promise<{ status: number; text: string; body: any }>) => {
  const r = await p;
  if (r.status >= 300) throw new Error(`${r.status} ${r.text}`);
  return r.body;
};

let t0 = performance.now();
const patient = (await must(client.post('/api/v1/patients', { givenName: 'Langa', familyName: 'Aktenreich', sex: 'female', birthDate: '1961-04-12', phone: '+49 171 5559876' }))).patient;
const p = `/api/v1/patients/${patient.id}`;
await must(client.post(`${p}/anamnesis`, { answers: { smoker: false, blood_thinners: true, blood_thinner_name: 'ASS 100', hair_status: 'norwood_3', allergies: ['Penicillin'] } }));
const settings = await must(client.get('/api/v1/appointments/settings'));
const room = (await must(client.post('/api/v1/appointments/resources', { kind: 'room', name: 'Bench-Raum' }))).resource;
const day = (i: number) => new Date(Date.UTC(2024, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
for (let i = 1; i < ENTRIES; i++) {
  const k = i % 10;
  if (k < 4) await must(client.post(`${p}/notes`, { category: k % 2 ? 'finding' : 'note', text: `Verlaufsnotiz ${i}: Patientin berichtet über Besserung, Kontrolle in vier Wochen.` }));
  else if (k < 6) await must(client.post(`${p}/treatments`, { performedOn: day(i), type: 'Kontrolle', description: `Sitzung ${i}, komplikationslos` }));
  else if (k === 6) await must(client.post(`${p}/diagnoses`, { code: 'M54.5', text: `Kreuzschmerz (${i})`, certainty: 'G' }));
  else if (k === 7) await must(client.post(`${p}/consents`, { purpose: i % 20 === 7 ? 'email_contact' : 'health_data', action: 'granted', textVersion: 'v1', channel: 'paper' }));
  else if (k === 8) await must(client.post('/api/v1/appointments', { patientId: patient.id, typeId: settings.types[0].id, roomId: room.id, start: `${day(i)}T09:00`, notes: `Termin ${i}` }));
  else await must(client.post(`${p}/messages`, { purpose: 'appointment_reminder', channel: 'email' }));
}
console.log(`record with ${ENTRIES} entries written in ${fmt((performance.now() - t0) / 1000, 1)} s`);

// The API call alone.
const api: number[] = [];
for (let i = 0; i < CALLS + 5; i++) {
  t0 = performance.now();
  const body = await must(client.get(`${p}/timeline?limit=50`));
  if (i >= 5) api.push(performance.now() - t0);
  if (body.items.length !== 50) throw new Error(`expected 50 lines, got ${body.items.length}`);
}

// The browser: record open → first timeline line visible.
const browser = await launchBrowser();
const context = await browser.newContext({ baseURL: app.url, viewport: { width: 1366, height: 900 }, locale: 'de-DE' });
const url = new URL(app.url);
await context.addCookies([...client.cookies].map(([name, value]) => ({ name, value, domain: url.hostname, path: '/' })));
const page = await context.newPage();
const ui: number[] = [];
for (let i = 0; i < OPENS + 3; i++) {
  await page.goto('/patients');
  await page.getByRole('heading', { level: 1 }).first().waitFor();
  t0 = performance.now();
  await page.goto(`/patients/${patient.id}`);
  await page.locator('.timeline-list li').first().waitFor({ state: 'visible' });
  if (i >= 3) ui.push(performance.now() - t0);
}
const lines = await page.locator('.timeline-list li').count();
await browser.close();
await app.stop();
await app.db.drop();

api.sort((a, b) => a - b);
ui.sort((a, b) => a - b);
const row = (name: string, xs: number[]) => `${name.padEnd(44)} p50 ${fmt(percentile(xs, 50)).padStart(8)} ms   p95 ${fmt(percentile(xs, 95)).padStart(8)} ms`;
console.log(row(`GET timeline?limit=50 (API alone, n=${CALLS})`, api));
console.log(row(`record open → timeline visible (n=${OPENS})`, ui));
console.log(`ratio browser/API: p50 ${fmt(percentile(ui, 50) / percentile(api, 50), 1)}×, p95 ${fmt(percentile(ui, 95) / percentile(api, 95), 1)}×   (${lines} lines shown of ${ENTRIES})`);
