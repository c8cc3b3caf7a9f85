// Patient search and opening a record at 50 concurrent sessions, through the real HTTP API
// (session, RLS scope, decryption, audit write) against the bare SQL for the same result in the
// same run; throughput of record opens at 1, 8 and 32 sessions of one organization; the
// process's peak RSS (API and bench share the process). Not part of npm test.
//   node bench/patients-search.ts [--patients 100000] [--audit 1000000] [--sessions 50] [--ops 2000] [--throughput-ops 600]
// The data is loaded in bulk by a child process (bench/patients-load.ts), so its memory is not in
// the API process's peak RSS.
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { runWithContext, systemContext } from '../app/api/src/core/context.ts';
import { withScope } from '../app/api/src/db/connection.ts';
import { blindToken, parseSearch } from '../app/api/src/modules/patients/blind-index.ts';
import { searchKey } from '../app/api/src/modules/patients/patient.crypto.ts';
import { resolveQuestionnaire } from '../app/api/src/modules/records/questionnaire.service.ts';
import { startTestApp, setupInstance } from '../tests/helpers/app.ts';
import { clientAs } from '../tests/integration/patients-fixtures.ts';
import { percentile, PRODUCTION_LIKE } from './lib.ts';
import type { LoadRequest } from './patients-load.ts';

const { values } = parseArgs({
  options: {
    patients: { type: 'string', default: '100000' }, audit: { type: 'string', default: '1000000' }, ops: { type: 'string', default: '2000' },
    sessions: { type: 'string', default: process.env.BENCH_SESSIONS || '50' }, 'throughput-ops': { type: 'string', default: '600' },
  },
});
const N = Number(values.patients), AUDIT = Number(values.audit), OPS = Number(values.ops), SESSIONS = Number(values.sessions);
const TP_OPS = Number(values['throughput-ops']);
const t0 = Date.now();
const say = (s: string) => process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(0)}s] ${s}\n`);
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

const app = await startTestApp(PRODUCTION_LIKE);
const { organizationId, userId } = await setupInstance(app);
const su = new pg.Pool({ connectionString: app.db.superuserUrl, max: 2 });

// --- data: N patients (key, master data, search tokens, one anamnesis each), AUDIT entries ------
const actor = { userId, organizationId, roles: ['admin' as const], sessionId: userId };
const { q, sKey } = await runWithContext(systemContext('bench', actor), () => withScope(app.services.db, { organizationId, userId }, async (trx) => ({
  q: await resolveQuestionnaire(trx, organizationId, 'anamnesis', 1),
  sKey: await app.services.keys.blobKey(trx, searchKey(organizationId)),
})));
const request: LoadRequest = {
  superuserUrl: app.db.superuserUrl, organizationId, userId, patients: N, audit: AUDIT, masterKeyHex: app.services.seal.masterKey().toString('hex'),
  searchKeyHex: sKey.toString('hex'), questionnaire: { id: q.id, definition: q.definition },
};
const loader = fork(new URL('./patients-load.ts', import.meta.url), { stdio: 'inherit' });
const loaded = await new Promise<{ patientSeconds: number; auditSeconds: number }>((resolve, reject) => {
  loader.once('message', (m) => resolve(m as never));
  loader.once('exit', (code) => reject(new Error(`loader exited with ${code}`)));
  loader.send(request);
});
say(`${N} demo patients in ${loaded.patientSeconds.toFixed(1)} s, ${AUDIT} audit entries in ${loaded.auditSeconds.toFixed(1)} s (bulk in a child process; audit outside the hash chain)`);
const rssAfterLoad = process.resourceUsage().maxRSS * 1024;

// --- workload -----------------------------------------------------------------------------
const sample = (await su.query(`select id from patients where organization_id = $1 order by random() limit 2000`, [organizationId])).rows.map((r) => r.id as string);
const searches = Array.from({ length: 500 }, () => `${['Anna', 'Lukas', 'Elif', 'Mehmet', 'Sophie', 'Paul'][Math.floor(Math.random() * 6)]} ${['Müll', 'Schm', 'Wagn', 'Yılm', 'Hoff', 'Krü'][Math.floor(Math.random() * 6)]}`);
const tokensOf = (s: string) => (parseSearch(s) as { kind: string; value: string }[]).map((term) => ({ kind: term.kind, token: blindToken(sKey, term as never) }));

const owner = new pg.Pool({ connectionString: app.db.ownerUrl, max: 10 });
async function sqlSearch(s: string) {
  const tokens = tokensOf(s);
  const where = tokens.map((_, i) => `(kind = $${2 * i + 2} and token = $${2 * i + 3})`).join(' or ');
  const params = [organizationId, ...tokens.flatMap((x) => [x.kind, x.token])];
  await owner.query(
    `with c as (select patient_id from patient_search where organization_id = $1 and (${where}) group by patient_id having count(*) = ${tokens.length})
     select p.*, (select count(*) from c) as total from patients p where p.id in (select patient_id from c) and p.anonymized_at is null
     order by p.created_at desc, p.id desc limit 25`, params);
}
async function sqlOpen(id: string) {
  const r = await owner.query(`select * from patients where organization_id = $1 and id = $2`, [organizationId, id]);
  if (r.rowCount !== 1) throw new Error('bare open found no patient');
  await owner.query(`select * from record_entries where organization_id = $1 and patient_id = $2 order by created_at`, [organizationId, id]);
}
const clients = await Promise.all(Array.from({ length: Math.max(SESSIONS, 32) }, () => clientAs(app, organizationId, ['doctor'])));
async function apiSearch(i: number, s: string) {
  const r = await clients[i].post('/api/v1/patients/search', { q: s, limit: 25 });
  if (r.status !== 200) throw new Error(`search ${r.status} ${r.text}`);
}
async function apiOpen(i: number, id: string) {
  const r = await clients[i].get(`/api/v1/patients/${id}/record`);
  if (r.status !== 200) throw new Error(`open ${r.status} ${r.text}`);
}


/** ops operations with `concurrency` workers, each worker its own session; sorted latencies (ms). */
async function run(ops: number, concurrency: number, fn: (worker: number, k: number) => Promise<void>): Promise<{ lat: number[]; rps: number }> {
  const lat: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async (_, w) => {
    for (let k = next++; k < ops; k = next++) {
      const s = performance.now();
      await fn(w, k);
      lat.push(performance.now() - s);
    }
  }));
  return { lat: lat.sort((a, b) => a - b), rps: ops / ((performance.now() - start) / 1000) };
}
const pct = (l: number[], p: number) => percentile(l, p);

const rows: string[][] = [];
for (const [name, api, sql] of [
  ['search (name + prefix), page of 25', (w: number, k: number) => apiSearch(w, searches[k % searches.length]), (_: number, k: number) => sqlSearch(searches[k % searches.length])],
  ['open record (master + health)', (w: number, k: number) => apiOpen(w, sample[k % sample.length]), (_: number, k: number) => sqlOpen(sample[k % sample.length])],
] as const) {
  await run(200, SESSIONS, api); // warm-up
  await run(200, SESSIONS, sql);
  const a = (await run(OPS, SESSIONS, api)).lat;
  const s = (await run(OPS, SESSIONS, sql)).lat;
  rows.push([name, pct(a, 50).toFixed(1), pct(a, 95).toFixed(1), pct(s, 50).toFixed(1), pct(s, 95).toFixed(1), (pct(a, 50) / pct(s, 50)).toFixed(1), (pct(a, 95) / pct(s, 95)).toFixed(1)]);
  say(`${name} done`);
}

const throughput: string[][] = [];
for (const c of [1, 8, 32]) {
  const a = await run(TP_OPS, c, (w, k) => apiOpen(w, sample[(k * 7 + c) % sample.length]));
  const s = await run(TP_OPS, c, (_, k) => sqlOpen(sample[(k * 7 + c) % sample.length]));
  throughput.push([String(c), a.rps.toFixed(0), pct(a.lat, 50).toFixed(1), pct(a.lat, 95).toFixed(1), s.rps.toFixed(0), (s.rps / a.rps).toFixed(1)]);
  say(`throughput at ${c} sessions done`);
}

const stats = app.services.keys.cache.stats;
process.stdout.write(`\n${N} patients, ${AUDIT} audit entries, ${SESSIONS} concurrent sessions, ${OPS} operations each (ms)\n`);
process.stdout.write(['scenario', 'api p50', 'api p95', 'sql p50', 'sql p95', 'ratio p50', 'ratio p95'].join(' | ') + '\n');
for (const r of rows) process.stdout.write(r.join(' | ') + '\n');
process.stdout.write(`\nrecord opens of one organization, ${TP_OPS} per level\n`);
process.stdout.write(['sessions', 'api req/s', 'api p50', 'api p95', 'sql req/s', 'sql/api'].join(' | ') + '\n');
for (const r of throughput) process.stdout.write(r.join(' | ') + '\n');
process.stdout.write(`\npeak RSS of the API process (bench clients included): ${mib(process.resourceUsage().maxRSS * 1024)} MiB, ${mib(rssAfterLoad)} MiB before the load phases\n`);
process.stdout.write(`data-key cache: ${stats.unwraps} unwraps, ${stats.hits} hits, ${app.services.keys.cache.size} keys held\n`);
await owner.end();
await su.end();
await app.stop();
await app.db.drop();
process.exit(0);
