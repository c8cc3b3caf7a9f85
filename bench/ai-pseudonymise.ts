// AI preparation overhead, in one run:
//  1. pseudonymisation throughput: files per second for a typical file (anamnesis with free text,
//     3 diagnoses, 5 treatments, 5 patient messages; ~6 kB of text): build the identifier rules,
//     scrub every text, run the final leak check — as prepare() does before sending;
//     baseline: the same texts only copied and searched for one fixed word (a lower bound).
//  2. added latency per request: POST /patients/:id/ai/prepare through the real server (gating,
//     decryption, pseudonymisation, leak check, SDK call, audit, encrypted draft) against the fake
//     Messages API's own round trip (the same SDK from this process, a payload of the same size).
// Run: node_modules/.bin/node bench/ai-pseudonymise.ts   (BENCH_FILES=2000 BENCH_REQUESTS=60)
import Anthropic from '@anthropic-ai/sdk';
import { Pseudonymiser } from '../app/api/src/modules/ai/pseudonymise.ts';
import { enableAi, grantAi, inboundText, must, startAiEnv } from '../tests/integration/ai-fixtures.ts';
import { samplePatient } from '../tests/integration/patients-fixtures.ts';
import { fmt, percentile, PRODUCTION_LIKE } from './lib.ts';

const FILES = Number(process.env.BENCH_FILES ?? 2000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 60);

function typicalFile(i: number) {
  const g = ['Jürgen', 'Bärbel', 'Sören', 'Käthe'][i % 4];
  const f = ['Müller-Weiß', 'Größmann', 'Schäfer', 'Köhler'][i % 4];
  const texts = [
    `Pat. ${g} ${f}, geb. 3. März 1961, Tel. 0171 / 55 00 ${String(i).padStart(3, '0')}. Haarausfall seit drei Jahren, diffus, Mutter ebenfalls betroffen. `.repeat(6),
    ...['Androgenetische Alopezie', 'Eisenmangel', 'Hypothyreose'].map((d) => `${d}, Verdacht bestätigt durch Labor vom 12.04.2024.`),
    ...Array.from({ length: 5 }, (_, k) => `Sitzung ${k + 1}: PRP am Oberkopf, ${f.split('-')[0]}s Kopfhaut gut vertragen; Rückfragen an ${g.toLowerCase()}@beispiel.de. `.repeat(3)),
    ...Array.from({ length: 5 }, (_, k) => `Hallo, hier ist ${g[0]}. ${f}. Frage ${k + 1}: Darf ich vor der Behandlung Marcumar nehmen? Erreichbar unter +49 171 5500${String(i).padStart(3, '0')}.`),
  ];
  return {
    ids: { patientNames: [g, f], staffNames: ['Dr. Hildegard Sauerbruch', 'Empfang Meyer'], birthDate: '1961-03-03', phones: [`+491715500${String(i).padStart(3, '0')}`], emails: [`${g.toLowerCase()}@beispiel.de`], address: { street: 'Lindenweg 5', postalCode: '10115' } },
    texts,
  };
}

// ---- 1. throughput ----
const files = Array.from({ length: 64 }, (_, i) => typicalFile(i));
const bytes = files[0].texts.join('\n').length;
for (let i = 0; i < 50; i++) new Pseudonymiser(files[i % 64].ids).scrub(files[i % 64].texts[0]); // warm-up
let t0 = performance.now();
let sink = 0;
for (let i = 0; i < FILES; i++) {
  const f = files[i % files.length];
  const p = new Pseudonymiser(f.ids);
  const out = f.texts.map((x) => p.scrub(x));
  if (p.leakCheck(out).length) throw new Error('leak check failed in the bench corpus');
  sink += out.length;
}
const pseudoSeconds = (performance.now() - t0) / 1000;
t0 = performance.now();
for (let i = 0; i < FILES; i++) {
  const f = files[i % files.length];
  const out = f.texts.map((x) => x.slice());
  sink += out.filter((x) => x.includes('Marcumar')).length;
}
const baseSeconds = (performance.now() - t0) / 1000;
console.log(`pseudonymisation: ${FILES} typical files (${bytes} chars each): ${fmt(FILES / pseudoSeconds, 0)} files/s (${fmt((pseudoSeconds / FILES) * 1000, 3)} ms per file)`);
console.log(`  baseline copy + one search: ${fmt(FILES / baseSeconds, 0)} files/s → pseudonymisation costs ${fmt(baseSeconds ? pseudoSeconds / baseSeconds : NaN, 0)}× the baseline (sink ${sink})`);

// ---- 2. added latency per request ----
const env = await startAiEnv(PRODUCTION_LIKE);
try {
  await enableAi(env.admin, env.fake.url);
  const input = samplePatient();
  const patient = (await must(env.admin.post('/api/v1/patients', { ...input, allowDuplicate: true }), 201)).patient;
  const f = typicalFile(1);
  await must(env.admin.post(`/api/v1/patients/${patient.id}/anamnesis`, { answers: { smoker: false, blood_thinners: true, blood_thinner_name: 'Marcumar', hair_status: 'norwood_3', free_text: f.texts[0] } }), 201);
  for (const d of f.texts.slice(1, 4)) await must(env.admin.post(`/api/v1/patients/${patient.id}/diagnoses`, { code: 'L64.9', text: d.slice(0, 500) }), 201);
  for (const x of f.texts.slice(4, 9)) await must(env.admin.post(`/api/v1/patients/${patient.id}/treatments`, { performedOn: '2025-01-10', type: 'PRP', description: x }), 201);
  for (const x of f.texts.slice(9)) await inboundText(env.app, env.organizationId, patient.id, x);
  await grantAi(env.admin, patient.id);

  const full: number[] = [];
  for (let i = 0; i < REQUESTS + 5; i++) {
    const s = performance.now();
    await must(env.admin.post(`/api/v1/patients/${patient.id}/ai/prepare`, {}), 201);
    if (i >= 5) full.push(performance.now() - s);
  }
  const sample = env.fake.requests.at(-1)!.body;
  const sdk = new Anthropic({ apiKey: env.apiKey, baseURL: env.fake.url, maxRetries: 0 });
  const bare: number[] = [];
  for (let i = 0; i < REQUESTS + 5; i++) {
    const s = performance.now();
    await sdk.messages.create(sample as never);
    if (i >= 5) bare.push(performance.now() - s);
  }
  full.sort((a, b) => a - b);
  bare.sort((a, b) => a - b);
  const [f50, f95, b50, b95] = [percentile(full, 50), percentile(full, 95), percentile(bare, 50), percentile(bare, 95)];
  console.log(`prepare through the server (${REQUESTS} requests, payload ${env.fake.requests.at(-1)!.raw.length} bytes): p50 ${fmt(f50, 1)} ms, p95 ${fmt(f95, 1)} ms`);
  console.log(`fake API round trip with the SDK alone (same payload): p50 ${fmt(b50, 1)} ms, p95 ${fmt(b95, 1)} ms`);
  console.log(`added latency per request: p50 +${fmt(f50 - b50, 1)} ms (${fmt(f50 / b50, 1)}× the bare round trip), p95 +${fmt(f95 - b95, 1)} ms`);
} finally {
  await env.stop();
}
