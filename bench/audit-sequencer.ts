// Audit entries without a lock per organization (issue 9, item 1), in one run:
// 1. catch-up: BENCH_AUDIT_ROWS entries (default 200,000; 1,000,000 for the figure) inserted
//    unchained in bulk, then chained by the app's sequencer: entries per second;
// 2. audited transactions of ONE organization at 1, 8, 32 and 50 concurrent sessions (BENCH_SESSIONS),
//    each: a read, its audit entry, one more statement, commit — against the same transaction without
//    the entry (bare), and with the per-organization advisory lock the old trigger held until commit
//    (old); BENCH_TRANSACTIONS per run, 3 interleaved rounds, medians;
// 3. the sequencer's lag under all that load: per entry chained_at − created_at (p50/p95/max), and
//    the lag gauge's source (audit_waiting()) sampled every 100 ms.
// Run: node bench/audit-sequencer.ts   (starts its own embedded PostgreSQL)
import { createDb, withScope, type Db } from '../app/api/src/db/connection.ts';
import { rootLogger } from '../app/api/src/core/logger.ts';
import { audit } from '../app/api/src/modules/audit/audit.service.ts';
import { waitingStatus } from '../app/api/src/modules/audit/audit.repository.ts';
import { startTestApp, setupInstance } from '../tests/helpers/app.ts';
import { waitForChained } from '../tests/helpers/audit.ts';
import { fmt, load, percentile, PRODUCTION_LIKE } from './lib.ts';

rootLogger.level = 'silent';
const ROWS = Number(process.env.BENCH_AUDIT_ROWS || 200_000);
const TX = Number(process.env.BENCH_TRANSACTIONS || 3000);
const app = await startTestApp(PRODUCTION_LIKE);
const { organizationId, userId } = await setupInstance(app);
const owner = createDb(app.db.ownerUrl, 2);
const db: Db = createDb(app.db.appUrl, 40);

// 1. Catch-up.
await waitForChained(app.services.db);
const t0 = performance.now();
await owner.raw(
  `insert into audit_log (organization_id, actor_user_id, action, object_type, object_id, outcome, details)
   select ?, ?, 'patient.read', 'patient', gen_random_uuid()::text, 'success', '{}' from generate_series(1, ?)`,
  [organizationId, userId, ROWS],
);
const inserted = performance.now();
await waitForChained(app.services.db, 30 * 60_000);
const chainedSeconds = (performance.now() - inserted) / 1000;
console.log(`catch-up: ${ROWS} entries inserted in ${fmt((inserted - t0) / 1000)} s, chained in ${fmt(chainedSeconds)} s (${fmt(ROWS / chainedSeconds, 0)} entries/s)`);

// 2. Audited transactions in one organization.
const scope = { organizationId, userId, readOnly: true };
type Variant = 'bare' | 'new' | 'old';
async function transaction(variant: Variant, i: number): Promise<void> {
  await withScope(db, scope, async (trx) => {
    await trx('users').where({ id: userId }).first('id');
    if (variant === 'old') await trx.raw('select pg_advisory_xact_lock(7061, hashtext(?))', [organizationId]);
    if (variant !== 'bare') await audit(trx, { action: 'patient.read', objectType: 'patient', objectId: `bench-${variant}-${i}`, organizationId, actorUserId: userId });
    await trx('organizations').where({ id: organizationId }).first('id');
  });
}

await load(300, 8, (i) => transaction('new', i));
await waitForChained(app.services.db);
const since = new Date();
let sampling = true;
const samples: number[] = [];
const sampler = (async () => {
  while (sampling) {
    samples.push((await waitingStatus(owner)).oldestSeconds);
    await new Promise((r) => setTimeout(r, 100));
  }
})();
// Rounds interleave the variants (the shared machine's load drifts); medians of the rounds.
const SESSIONS = (process.env.BENCH_SESSIONS || '1,8,32,50').split(',').map(Number);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const c of SESSIONS) {
  const runs: Record<Variant, { rps: number[]; p95: number[] }> = { bare: { rps: [], p95: [] }, new: { rps: [], p95: [] }, old: { rps: [], p95: [] } };
  for (let round = 0; round < 3; round++) {
    for (const v of ['bare', 'new', 'old'] as const) {
      const r = await load(TX, c, (i) => transaction(v, i));
      runs[v].rps.push(r.rps);
      runs[v].p95.push(r.p95);
    }
  }
  const [bare, fresh, old] = (['bare', 'new', 'old'] as const).map((v) => ({ rps: median(runs[v].rps), p95: median(runs[v].p95) }));
  console.log(
    `${String(c).padStart(2)} sessions: bare ${fmt(bare.rps, 0)} tx/s p95 ${fmt(bare.p95)} ms | ` +
      `unchained entry ${fmt(fresh.rps, 0)} tx/s p95 ${fmt(fresh.p95)} ms (${fmt(bare.rps / fresh.rps)}x bare) | ` +
      `old per-organization lock ${fmt(old.rps, 0)} tx/s p95 ${fmt(old.p95)} ms (${fmt(bare.rps / old.rps)}x bare)`,
  );
}
sampling = false;
await sampler;
await waitForChained(app.services.db);

// 3. Lag of the entries written by the load (old-style ones included: same table, same sequencer).
const { rows } = await owner.raw(
  `select extract(epoch from chained_at - created_at) * 1000 as ms from audit_log where created_at >= ? and chained_at is not null order by 1`,
  [since],
);
const lags = rows.map((r: { ms: string }) => Number(r.ms));
samples.sort((a, b) => a - b);
console.log(
  `sequencer lag over ${lags.length} entries (chained_at − insert time): p50 ${fmt(percentile(lags, 50))} ms, p95 ${fmt(percentile(lags, 95))} ms, max ${fmt(lags.at(-1) ?? NaN)} ms (aim <= 1000 ms)`,
);
console.log(`oldest waiting entry, sampled every 100 ms (${samples.length} samples): p95 ${fmt(percentile(samples, 95) * 1000)} ms, max ${fmt((samples.at(-1) ?? NaN) * 1000)} ms`);
await db.destroy();
await owner.destroy();
await app.stop();
await app.db.drop();
process.exit(0);
