// Per-request overhead of the secure path on a simple read: opening a patient record
// (GET /api/v1/patients/:id: session check, one transaction with RLS, the data key, decryption,
// the audit entry) against the same SELECT of the same row served by the same Koa middleware
// stack without them, in one run, at concurrency 1 and 8. The baseline reads the patients table
// by primary key only, so the audit rows the full variant writes cannot slow it down.
// Run: node bench/request-overhead.ts   (starts its own embedded PostgreSQL; BENCH_REQUESTS,
// BENCH_ROUNDS and BENCH_CONCURRENCY=1,8 adjust it)
import http from 'node:http';
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { createDb } from '../app/api/src/db/connection.ts';
import { requestContext } from '../app/api/src/http/middleware/request-context.ts';
import { securityHeaders } from '../app/api/src/http/middleware/security-headers.ts';
import { errorHandler } from '../app/api/src/http/middleware/errors.ts';
import { rootLogger } from '../app/api/src/core/logger.ts';
import { startTestApp, setupInstance } from '../tests/helpers/app.ts';
import { load, fmt, PRODUCTION_LIKE, type LoadResult } from './lib.ts';

rootLogger.level = 'silent';
const app = await startTestApp(PRODUCTION_LIKE);
const { client } = await setupInstance(app);
const created = await client.post('/api/v1/patients', {
  givenName: 'Bench', familyName: 'Patient', sex: 'female', birthDate: '1980-01-01', language: 'de', country: 'DE',
  phone: '+49 171 5550000', email: 'bench@example.org',
});
if (created.status !== 201) throw new Error(`creating the bench patient failed: ${created.status} ${created.text}`);
const patientId = created.body.patient.id as string;
const owner = createDb(app.db.ownerUrl, 10);

// Baseline: same middleware stack, same pool size, the same SELECT the repository runs.
const bare = new Koa();
bare.use(requestContext(app.services.metrics));
bare.use(securityHeaders(false));
bare.use(errorHandler());
bare.use(async (ctx) => {
  const row = await owner('patients').where({ id: patientId }).first(owner.raw("patients.*, to_char(patients.last_treatment_on, 'YYYY-MM-DD') as last_treatment_on"));
  ctx.body = { patient: { ...row, data: row.data.toString('base64') } };
});
const bareServer = http.createServer(bare.callback()).listen(0, '127.0.0.1');
await new Promise((r) => bareServer.once('listening', r));
const bareUrl = `http://127.0.0.1:${(bareServer.address() as AddressInfo).port}/`;

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
function get(url: string, cookie?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent, headers: cookie ? { cookie } : {} }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    }).on('error', reject);
  });
}

const cookie = client.cookieHeader();
const fullUrl = `${app.url}/api/v1/patients/${patientId}`;
const N = Number(process.env.BENCH_REQUESTS || 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3);
const line = (r: LoadResult) => `${fmt(r.rps, 0)} req/s p50 ${fmt(r.p50)} ms p95 ${fmt(r.p95)} ms`;
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`GET a patient record vs the same bare SELECT; ${N} requests per variant and round, ${ROUNDS} rounds`);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY || '1,8').split(',').map(Number);
for (const C of CONCURRENCY) {
  await load(300, C, () => get(fullUrl, cookie));
  await load(300, C, () => get(bareUrl));
  const ratios: number[] = [];
  const p95s: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate the order so neither variant always runs on a warmer (or more loaded) machine.
    const first = r % 2 === 0 ? 'bare' : 'full';
    const a = await load(N, C, () => (first === 'bare' ? get(bareUrl) : get(fullUrl, cookie)));
    const b = await load(N, C, () => (first === 'bare' ? get(fullUrl, cookie) : get(bareUrl)));
    const [base, full] = first === 'bare' ? [a, b] : [b, a];
    ratios.push(base.rps / full.rps);
    p95s.push(full.p95 / base.p95);
    console.log(`c=${C} round ${r + 1}: bare ${line(base)} | session+RLS+keys+audit ${line(full)} | throughput ratio ${fmt(base.rps / full.rps)}x`);
  }
  console.log(`c=${C} median throughput ratio (bare / full): ${fmt(med(ratios))}x, median p95 ratio ${fmt(med(p95s))}x (aim <= 1.3x)`);
}
agent.destroy();
bareServer.close();
await owner.destroy();
await app.stop();
await app.db.drop();
process.exit(0);
