// Patient search and opening a record at 50 concurrent sessions, through the real HTTP API
// (session, RLS scope, decryption, audit write) against the bare SQL for the same result in the
// same run. 100,000 demo patients and 1,000,000 audit entries. Not part of npm test.
//   node bench/patients-search.ts [--patients 100000] [--audit 1000000] [--ops 2000]
import { parseArgs } from 'node:util';
import pg from 'pg';
import { runWithContext, systemContext } from '../app/api/src/core/context.ts';
import { withScope } from '../app/api/src/db/connection.ts';
import { generateDemoPatients } from '../app/api/src/modules/patients/demo-data.service.ts';
import { blindToken, parseSearch } from '../app/api/src/modules/patients/blind-index.ts';
import { searchKey } from '../app/api/src/modules/patients/patient.crypto.ts';
import { startTestApp, setupInstance } from '../tests/helpers/app.ts';
import { clientAs } from '../tests/integration/patients-fixtures.ts';

const { values } = parseArgs({ options: { patients: { type: 'string', default: '100000' }, audit: { type: 'string', default: '1000000' }, ops: { type: 'string', default: '2000' } } });
const N = Number(values.patients), AUDIT = Number(values.audit), OPS = Number(values.ops), SESSIONS = Number(process.env.BENCH_SESSIONS || 50);
const t0 = Date.now();
const say = (s: string) => process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(0)}s] ${s}\n`);

const app = await startTestApp();
const { organizationId, userId } = await setupInstance(app);
const actor = { userId, organizationId, roles: ['admin' as const], sessionId: userId };
let t = Date.now();
await runWithContext(systemContext('bench', actor), () => generateDemoPatients(app.services, N));
say(`${N} demo patients in ${((Date.now() - t) / 1000).toFixed(1)} s`);

const su = new pg.Pool({ connectionString: app.db.superuserUrl, max: 10 });
t = Date.now();
await su.query(`set session_replication_role = replica`);
const c = await su.connect();
await c.query('set session_replication_role = replica');
await c.query(`
  with ids as (select array_agg(id) a from patients), base as (select coalesce(max(seq), 0) s from audit_log where organization_id = $1)
  insert into audit_log (organization_id, seq, created_at, actor_user_id, action, object_type, object_id, outcome, request_id, details, prev_hash, hash)
  select $1, base.s + g, now() - make_interval(secs => $3 - g), $2, 'patient.read', 'patient', (ids.a)[1 + g % array_length(ids.a, 1)]::text,
         'success', 'bench', '{}', repeat('0', 64), repeat('0', 64)
  from generate_series(1, $3) g, ids, base`, [organizationId, userId, AUDIT]);
c.release();
await su.query('analyze');
say(`${AUDIT} audit entries in ${((Date.now() - t) / 1000).toFixed(1)} s (bulk, outside the hash chain)`);

// Workload: 'Anna Müll'-style searches (given name + family prefix) and random records.
const sample = (await su.query(`select id from patients where organization_id = $1 order by random() limit 2000`, [organizationId])).rows.map((r) => r.id as string);
const searches = Array.from({ length: 500 }, () => `${['Anna', 'Lukas', 'Elif', 'Mehmet', 'Sophie', 'Paul'][Math.floor(Math.random() * 6)]} ${['Müll', 'Schm', 'Wagn', 'Yılm', 'Hoff', 'Krü'][Math.floor(Math.random() * 6)]}`);
const sKey = await withScope(app.services.db, { organizationId }, (trx) => app.services.keys.blobKey(trx, searchKey(organizationId)));
const tokensOf = (q: string) => (parseSearch(q) as { kind: string; value: string }[]).map((term) => ({ kind: term.kind, token: blindToken(sKey, term as never) }));

const owner = new pg.Pool({ connectionString: app.db.ownerUrl, max: 10 });
async function sqlSearch(q: string) {
  const tokens = tokensOf(q);
  const where = tokens.map((_, i) => `(kind = $${2 * i + 2} and token = $${2 * i + 3})`).join(' or ');
  const params = [organizationId, ...tokens.flatMap((x) => [x.kind, x.token])];
  await owner.query(
    `with c as (select patient_id from patient_search where organization_id = $1 and (${where}) group by patient_id having count(*) = ${tokens.length})
     select p.*, (select count(*) from c) as total from patients p where p.id in (select patient_id from c) and p.anonymized_at is null
     order by p.created_at desc, p.id desc limit 25`, params);
}
async function sqlOpen(id: string) {
  await owner.query(`select * from patients where organization_id = $1 and id = $2`, [organizationId, id]);
  await owner.query(`select * from record_entries where organization_id = $1 and patient_id = $2 order by created_at`, [organizationId, id]);
}
const clients = await Promise.all(Array.from({ length: SESSIONS }, () => clientAs(app, organizationId, ['doctor'])));
async function apiSearch(i: number, q: string) {
  const r = await clients[i].post('/api/v1/patients/search', { q, limit: 25 });
  if (r.status !== 200) throw new Error(`search ${r.status} ${r.text}`);
}
async function apiOpen(i: number, id: string) {
  const r = await clients[i].get(`/api/v1/patients/${id}/record`);
  if (r.status !== 200) throw new Error(`open ${r.status} ${r.text}`);
}

async function run(ops: number, fn: (worker: number, k: number) => Promise<void>): Promise<number[]> {
  const lat: number[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: SESSIONS }, async (_, w) => {
    for (let k = next++; k < ops; k = next++) {
      const s = performance.now();
      await fn(w, k);
      lat.push(performance.now() - s);
    }
  }));
  return lat.sort((a, b) => a - b);
}
const pct = (l: number[], p: number) => l[Math.min(l.length - 1, Math.floor(l.length * p))];

const rows: string[][] = [];
for (const [name, api, sql] of [
  ['search (name + prefix)', (w: number, k: number) => apiSearch(w, searches[k % searches.length]), (_: number, k: number) => sqlSearch(searches[k % searches.length])],
  ['open record (master + health)', (w: number, k: number) => apiOpen(w, sample[k % sample.length]), (_: number, k: number) => sqlOpen(sample[k % sample.length])],
] as const) {
  await run(200, api); // warm-up
  await run(200, sql);
  const a = await run(OPS, api);
  const s = await run(OPS, sql);
  rows.push([name, pct(a, 0.5).toFixed(1), pct(a, 0.95).toFixed(1), pct(s, 0.5).toFixed(1), pct(s, 0.95).toFixed(1), (pct(a, 0.5) / pct(s, 0.5)).toFixed(1), (pct(a, 0.95) / pct(s, 0.95)).toFixed(1)]);
  say(`${name} done`);
}
process.stdout.write(`\n${N} patients, ${AUDIT} audit entries, ${SESSIONS} concurrent sessions, ${OPS} operations each (ms)\n`);
process.stdout.write(['scenario', 'api p50', 'api p95', 'sql p50', 'sql p95', 'ratio p50', 'ratio p95'].join(' | ') + '\n');
for (const r of rows) process.stdout.write(r.join(' | ') + '\n');
await owner.end();
await su.end();
await app.stop();
await app.db.drop();
process.exit(0);
