// Reports over a large practice (issue 14 "Measure"): 100,000 patients (with an anamnesis entry
// each), 500,000 appointments, 1,000,000 messages (700,000 outbound incl. 50,000 inbox replies,
// 300,000 inbound), loaded with generate_series as the owner (content columns are dummy bytes:
// reports never decrypt). For each report, 12 months by month and by week: the API (session,
// RLS scope, both ranges, suppression, audit entry, JSON) against the bare SQL aggregate of the
// same two ranges in the same run (application role, organization set, no HTTP), p50/p95 and the
// ratio; then the bare SQL once more without the indexes of migration 0360, to show what they buy.
// Run: node bench/reports.ts   (BENCH_SCALE=0.1 loads a tenth; BENCH_REQUESTS (7) per report)
// Outbound messages are loaded in final states only (no queued ones for the outbox worker to send).
import { createDb } from '../app/api/src/db/connection.ts';
import { rootLogger } from '../app/api/src/core/logger.ts';
import * as repo from '../app/api/src/modules/reports/report.repository.ts';
import { startTestApp, setupInstance } from '../tests/helpers/app.ts';
import { fmt, percentile, PRODUCTION_LIKE } from './lib.ts';

rootLogger.level = 'silent';
const SCALE = Number(process.env.BENCH_SCALE || 1);
const N = Number(process.env.BENCH_REQUESTS || 7);
const PATIENTS = Math.round(100_000 * SCALE);
const APPOINTMENTS = Math.round(500_000 * SCALE);
const OUTBOUND = Math.round(700_000 * SCALE);
const REPLIES = Math.round(50_000 * SCALE);
const INBOUND = Math.round(300_000 * SCALE);

const app = await startTestApp(PRODUCTION_LIKE);
const { client, organizationId: org } = await setupInstance(app);
const owner = createDb(app.db.superuserUrl, 4);

let t0 = performance.now();
const SOURCES = `array['website_form','whatsapp','email','phone','referral','walk_in','other']`;
await owner.raw(`insert into appointment_resources (organization_id, kind, name)
  select ?, 'practitioner', 'Dr. Bench ' || g from generate_series(1, 30) g`, [org]);
await owner.raw(`insert into appointment_resources (organization_id, kind, name)
  select ?, 'room', 'Raum ' || g from generate_series(1, 20) g`, [org]);
// patients spread over two years up to 2026-11-30; every 9th without a source channel
await owner.raw(`insert into patients (organization_id, data, source_channel, created_at)
  select ?, '\\x00'::bytea, case when g % 9 = 0 then null else (${SOURCES})[1 + g % 7] end,
         timestamptz '2024-12-01 08:00Z' + (g::float / ?) * interval '730 days'
    from generate_series(1, ?) g`, [org, PATIENTS, PATIENTS]);
await owner.raw(`insert into prospects (organization_id, phone_token, data, created_at)
  select ?, decode(md5(g::text), 'hex'), '\\x00'::bytea, timestamptz '2024-12-01 08:00Z' + (g::float / ?) * interval '730 days'
    from generate_series(1, ?) g`, [org, PATIENTS / 10, PATIENTS / 10]);
await owner.raw(`insert into record_entries (organization_id, patient_id, kind, data, prequal_status, created_at)
  select organization_id, id, 'anamnesis', '\\x00'::bytea, (array['qualified','needs_review','not_qualified'])[1 + (hashtext(id::text) & 3) % 3], created_at + interval '1 day'
    from patients where organization_id = ?`, [org]);
console.log(`patients, prospects, anamnesis: ${fmt((performance.now() - t0) / 1000, 1)} s`);

// appointments: 24 slots of 20 min a day per practitioner from 2024-12-02; practitioners 1–20 each in their own room
t0 = performance.now();
await owner.raw(`
  with p as (select array_agg(id order by created_at) as ids from patients where organization_id = :org),
       pr as (select array_agg(id order by name) as ids from appointment_resources where organization_id = :org and kind = 'practitioner'),
       ro as (select array_agg(id order by name) as ids from appointment_resources where organization_id = :org and kind = 'room'),
       ty as (select array_agg(id order by key) as ids from appointment_types where organization_id = :org)
  insert into appointments (organization_id, patient_id, type_id, practitioner_id, room_id, starts_at, ends_at, status, cancelled_at)
  select :org, p.ids[1 + (g::bigint * 7919) % array_length(p.ids, 1)], ty.ids[1 + g % 3], pr.ids[1 + g % 30],
         case when g % 30 < 20 then ro.ids[1 + g % 30] end, s, s + interval '20 minutes',
         st, case when st = 'cancelled' then s end
    from p, pr, ro, ty, generate_series(0, :n - 1) g,
         lateral (select timestamptz '2024-12-02 07:00Z' + ((g / 30) / 24) * interval '1 day' + ((g / 30) % 24) * interval '20 minutes' as s,
                         (array['done','done','done','done','no_show','cancelled','planned','confirmed','arrived','in_treatment'])[1 + (g / 7) % 10] as st) x`,
{ org, n: APPOINTMENTS });
console.log(`${APPOINTMENTS} appointments: ${fmt((performance.now() - t0) / 1000, 1)} s`);

t0 = performance.now();
await owner.raw(`
  with p as (select array_agg(id order by created_at) as ids from patients where organization_id = :org)
  insert into outbox_messages (organization_id, patient_id, purpose, channel, automated, status, variables, created_at)
  select :org, p.ids[1 + (g::bigint * 104729) % array_length(p.ids, 1)], 'appointment_reminder', case when g % 3 = 0 then 'email' else 'whatsapp' end, true,
         (array['sent','sent','delivered','delivered','read','read','failed','blocked','cancelled'])[1 + g % 9], '\\x00'::bytea,
         timestamptz '2024-12-01 08:00Z' + (g::float / :n) * interval '730 days'
    from p, generate_series(1, :n) g`, { org, n: OUTBOUND });
await owner.raw(`
  with p as (select array_agg(id order by created_at) as ids from patients where organization_id = :org)
  insert into inbound_messages (organization_id, patient_id, provider, kind, content, received_at)
  select :org, p.ids[1 + (g * 7) % array_length(p.ids, 1)], 'meta', 'text', '\\x00'::bytea,
         timestamptz '2024-12-01 08:00Z' + (g::float / :n) * interval '730 days'
    from p, generate_series(1, :n) g`, { org, n: INBOUND });
// replies: the first of every 6th inbound message answered 5–300 minutes later
await owner.raw(`
  insert into outbox_messages (organization_id, patient_id, purpose, channel, automated, status, variables, created_at)
  select organization_id, patient_id, 'reply', 'whatsapp', false, 'delivered', '\\x00'::bytea, received_at + ((5 + row_number() over () % 295) * interval '1 minute')
    from (select * from inbound_messages where organization_id = :org order by received_at limit :n * 6) i
   where (extract(epoch from received_at)::bigint / 60) % 6 = 0
   limit :n`, { org, n: REPLIES });
await owner.raw('analyze');
const counts = (await owner.raw(`select (select count(*) from patients) p, (select count(*) from appointments) a,
  (select count(*) from outbox_messages) o, (select count(*) from inbound_messages) i`)).rows[0];
console.log(`messages: ${fmt((performance.now() - t0) / 1000, 1)} s — loaded ${counts.p} patients, ${counts.a} appointments, ${counts.o} outbound + ${counts.i} inbound messages`);

const app_db = createDb(app.db.appUrl, 2);
const NAMES = ['patients', 'funnel', 'appointments', 'utilisation', 'messages', 'response_time'] as const;
const SQL: Record<(typeof NAMES)[number], (trx: never, r: repo.Range) => Promise<unknown>> = {
  patients: repo.newPatients, funnel: repo.funnel, appointments: repo.appointmentsByStatusAndType,
  utilisation: repo.bookedMinutes, messages: repo.messages, response_time: repo.responseTimes,
};
const RANGES = {
  month: { current: { from: '2025-12-01', to: '2026-11-30' }, previous: { from: '2024-12-01', to: '2025-11-30' } },
  week: { current: { from: '2026-09-07', to: '2026-11-29' }, previous: { from: '2026-06-15', to: '2026-09-06' } },
};

async function timed(fn: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  await fn(); // warm
  const ms: number[] = [];
  for (let i = 0; i < N; i++) {
    const s = performance.now();
    await fn();
    ms.push(performance.now() - s);
  }
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p95: percentile(ms, 95) };
}

async function bareSql(name: (typeof NAMES)[number], g: 'week' | 'month') {
  return app_db.transaction(async (trx) => {
    await trx.raw("select set_config('app.org_id', ?, true)", [org]);
    for (const r of [RANGES[g].current, RANGES[g].previous]) await SQL[name](trx as never, { ...r, granularity: g, timeZone: 'Europe/Berlin' });
  });
}

const results: Record<string, { api: { p50: number; p95: number }; sql: { p50: number; p95: number }; noIndex?: { p50: number; p95: number } }> = {};
for (const g of ['month', 'week'] as const) {
  for (const name of NAMES) {
    const { from, to } = RANGES[g].current;
    const api = await timed(async () => {
      const res = await client.get(`/api/v1/reports/${name}?from=${from}&to=${to}&granularity=${g}`);
      if (res.status !== 200) throw new Error(`${name}: ${res.status} ${res.text}`);
    });
    const sql = await timed(() => bareSql(name, g));
    results[`${name}/${g}`] = { api, sql };
    console.log(`${name}/${g}: API p50 ${fmt(api.p50, 1)} p95 ${fmt(api.p95, 1)} ms, SQL p50 ${fmt(sql.p50, 1)} p95 ${fmt(sql.p95, 1)} ms`);
  }
}
// the same SQL without the indexes of 0360 (reports.ts needs them for these rows)
const INDEXES = ['inbound_org_received', 'prospects_org_created', 'record_entries_anamnesis', 'outbox_replies'];
const defs = (await owner.raw(`select indexdef from pg_indexes where indexname = any(?)`, [INDEXES])).rows.map((r: { indexdef: string }) => r.indexdef);
await owner.raw(`drop index ${INDEXES.join(', ')}`);
for (const name of ['funnel', 'messages', 'response_time', 'patients'] as const) {
  results[`${name}/month`].noIndex = await timed(() => bareSql(name, 'month'));
  console.log(`${name}/month without the 0360 indexes: SQL p50 ${fmt(results[`${name}/month`].noIndex!.p50, 1)} ms`);
}
for (const d of defs) await owner.raw(d);

console.log('\nreport/granularity      API p50   API p95   SQL p50   SQL p95  API/SQL p50  SQL p50 w/o 0360 indexes');
for (const [k, r] of Object.entries(results)) {
  console.log(`${k.padEnd(22)} ${fmt(r.api.p50, 1).padStart(8)} ${fmt(r.api.p95, 1).padStart(9)} ${fmt(r.sql.p50, 1).padStart(9)} ${fmt(r.sql.p95, 1).padStart(9)} ${fmt(r.api.p50 / r.sql.p50).padStart(11)}x ${r.noIndex ? fmt(r.noIndex.p50, 1).padStart(10) : ''}`);
}
await app_db.destroy();
await owner.destroy();
await app.stop();
await app.db.drop();
process.exit(0);
