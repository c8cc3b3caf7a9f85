// Week view of one practitioner in an organization with 50,000 appointments:
// GET /api/v1/appointments?from=<monday>&days=7&practitionerId=… (session check, RLS scope, the
// organization's time zone and DST-correct day bounds, the range query on the GiST index, one
// patient key per patient, decryption of names and notes, the audit entry) against the bare SQL
// that returns the same rows (owner pool, no decryption, no audit), at concurrency 1 and 8, in one
// run; prints p50/p95 and the ratios.
// Run: node bench/appointments-week.ts   (starts its own embedded PostgreSQL; BENCH_APPOINTMENTS
// (50000), BENCH_PATIENTS (300), BENCH_PRACTITIONERS (20), BENCH_REQUESTS (400) adjust it)
import http from 'node:http';
import { createDb, withScope } from '../app/api/src/db/connection.ts';
import { rootLogger } from '../app/api/src/core/logger.ts';
import { dayFrames } from '../app/api/src/modules/appointments/time-zone.ts';
import { startTestApp, setupInstance } from '../tests/helpers/app.ts';
import { load, fmt, PRODUCTION_LIKE, type LoadResult } from './lib.ts';

rootLogger.level = 'silent';
const APPOINTMENTS = Number(process.env.BENCH_APPOINTMENTS || 50_000);
const PATIENTS = Number(process.env.BENCH_PATIENTS || 300);
const PRACTITIONERS = Number(process.env.BENCH_PRACTITIONERS || 20);
const N = Number(process.env.BENCH_REQUESTS || 400);

const app = await startTestApp(PRODUCTION_LIKE);
const { client, organizationId } = await setupInstance(app);
const owner = createDb(app.db.ownerUrl, 10);

let t0 = performance.now();
for (let i = 0; i < PATIENTS; i++) {
  const res = await client.post('/api/v1/patients', {
    givenName: `Bench${i}`, familyName: `Wochenansicht${i}`, sex: 'female', birthDate: '1980-01-01', allowDuplicate: true,
  });
  if (res.status !== 201) throw new Error(`patient ${i}: ${res.status} ${res.text}`);
}
const practitioners: string[] = [];
for (let i = 0; i < PRACTITIONERS; i++) {
  practitioners.push((await client.post('/api/v1/appointments/resources', { kind: 'practitioner', name: `Dr. Bench ${i}` })).body.resource.id);
}
const typeId = (await client.get('/api/v1/appointments/settings')).body.types[0].id as string;
// Bulk load as the owner: 12 half-hour slots a day per practitioner from 2026-01-05 on, patients
// round-robin, every 17th cancelled (the week view leaves those out).
await owner.raw(
  `with p as (select array_agg(id order by id) as ids from patients where organization_id = ?),
        r as (select ?::uuid[] as ids)
   insert into appointments (organization_id, patient_id, type_id, practitioner_id, starts_at, ends_at, status, cancelled_at, created_by)
   select ?, p.ids[1 + g % array_length(p.ids, 1)], ?, r.ids[1 + g % array_length(r.ids, 1)],
          s, s + interval '30 minutes', case when g % 17 = 0 then 'cancelled' else 'planned' end, case when g % 17 = 0 then now() end, null
     from p, r, generate_series(0, ? - 1) g,
          lateral (select timestamptz '2026-01-05 07:00Z' + ((g / array_length(r.ids, 1)) / 12) * interval '1 day'
                                                        + ((g / array_length(r.ids, 1)) % 12) * interval '30 minutes' as s) x`,
  [organizationId, practitioners, organizationId, typeId, APPOINTMENTS],
);
// Fresh statistics, as autovacuum would have them in a running practice.
await owner.raw('analyze appointments, patients, data_keys, appointment_resources');
const total = (await owner('appointments').count<{ count: string }[]>('* as count'))[0].count;
console.log(`loaded ${PATIENTS} patients, ${PRACTITIONERS} practitioners, ${total} appointments in ${fmt((performance.now() - t0) / 1000, 1)} s`);

// A week in the middle of the loaded period (Monday 2026-04-13), practitioner 0.
const monday = '2026-04-13';
const practitionerId = practitioners[0];
const [first] = dayFrames(monday, 1, 'Europe/Berlin');
const last = dayFrames(monday, 7, 'Europe/Berlin')[6];
const bareSql = `select a.*, p.data as patient_data, k.id as key_id, k.wrapped_key
  from appointments a join patients p on p.id = a.patient_id
  left join data_keys k on k.organization_id = p.organization_id and k.scope = 'patient' and k.scope_id = p.id
  where a.organization_id = ? and a.starts_at >= ? and a.starts_at < ? and a.ends_at > ? and a.practitioner_id = ? and a.status <> 'cancelled'
  order by a.starts_at, a.id`;
const bareArgs = [organizationId, new Date(first.startsAt.getTime() - 24 * 3_600_000), last.endsAt, first.startsAt, practitionerId];
const rows = (await owner.raw(bareSql, bareArgs as never)).rows.length;
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const cookie = client.cookieHeader();
const url = `${app.url}/api/v1/appointments?from=${monday}&days=7&practitionerId=${practitionerId}`;
let apiRows = -1;
function get(): Promise<void> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent, headers: { cookie } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
        if (apiRows < 0) apiRows = JSON.parse(Buffer.concat(chunks).toString()).appointments.length;
        resolve();
      });
    }).on('error', reject);
  });
}
await get();
if (apiRows !== rows) throw new Error(`the API returned ${apiRows} appointments, the SQL ${rows}`);
const plan = (await owner.raw(`explain ${bareSql}`, bareArgs as never)).rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
// The same statement as the application role under row-level security (what the API runs).
const rlsPlan = await withScope(app.services.db, { organizationId }, async (trx) =>
  (await trx.raw(`explain analyze ${bareSql}`, bareArgs as never)).rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n'));
console.log(`under RLS (application role):\n${rlsPlan.split('\n').map((l: string) => `  ${l}`).join('\n')}`);
console.log(`week ${monday} of one practitioner: ${rows} appointments (plan: ${/Index/.test(plan) ? plan.match(/Index[^\n]*? on (\w+)/)?.[1] ?? 'an index' : 'NO index'})`);

const line = (r: LoadResult) => `${fmt(r.rps, 0)} req/s  p50 ${fmt(r.p50)} ms  p95 ${fmt(r.p95)} ms`;
for (const concurrency of [1, 8]) {
  await load(Math.min(50, N), concurrency, () => get()); // warm-up
  await load(Math.min(50, N), concurrency, async () => void (await owner.raw(bareSql, bareArgs as never)));
  const api = await load(N, concurrency, () => get());
  const sql = await load(N, concurrency, async () => void (await owner.raw(bareSql, bareArgs as never)));
  console.log(`concurrency ${concurrency}: API ${line(api)} | SQL ${line(sql)} | ratio p50 ${fmt(api.p50 / sql.p50, 1)}× p95 ${fmt(api.p95 / sql.p95, 1)}×`);
}
t0 = performance.now();
agent.destroy();
await owner.destroy();
await app.stop();
await app.db.drop();
process.exit(0);
