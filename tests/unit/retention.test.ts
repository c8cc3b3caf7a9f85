import test from 'ava';
import { AppError } from '../../app/api/src/core/errors.ts';
import {
  DEFAULT_RETENTION_POLICY,
  isoWeekKey,
  planRetention,
  type RetentionPlan,
  type RetentionPolicy,
  type SnapshotRef,
} from '../../app/api/src/modules/backup/retention.ts';

const snap = (id: string, iso: string, complete = true): SnapshotRef => ({ id, takenAt: new Date(iso), complete });
const policy = (daily: number, weekly: number, monthly: number): RetentionPolicy => ({ daily, weekly, monthly });
const kept = (plan: RetentionPlan) => Object.fromEntries(plan.keep.map((k) => [k.id, k.reasons.join(',')]));
const pruned = (plan: RetentionPlan) => plan.prune.map((p) => p.id);

/** One snapshot per day at 02:00 UTC from `start`, `days` days long, ids "d<yyyy-mm-dd>". */
function daily(start: string, days: number): SnapshotRef[] {
  return Array.from({ length: days }, (_, i) => {
    const at = new Date(Date.parse(`${start}T02:00:00Z`) + i * 86_400_000);
    return snap(`d${at.toISOString().slice(0, 10)}`, at.toISOString());
  });
}

function assertPartition(t: import('ava').ExecutionContext, input: SnapshotRef[], plan: RetentionPlan) {
  const all = [...plan.keep.map((k) => k.id), ...plan.prune.map((p) => p.id)];
  t.deepEqual([...all].sort(), input.map((s) => s.id).sort(), 'every snapshot is either kept or pruned, once');
}

test('empty input gives an empty plan', (t) => {
  t.deepEqual(planRetention([]), { keep: [], prune: [] });
});

test('the default policy is daily 7, weekly 4, monthly 12', (t) => {
  t.deepEqual({ ...DEFAULT_RETENTION_POLICY }, { daily: 7, weekly: 4, monthly: 12 });
});

test('60 nightly snapshots: 7 days, 4 ISO weeks and both months are kept, the rest pruned', (t) => {
  // 2027-03-01 (Mon) … 2027-04-29 (Thu)
  const input = daily('2027-03-01', 60);
  const plan = planRetention(input);
  t.deepEqual(kept(plan), {
    'd2027-04-29': 'latest,daily,weekly,monthly',
    'd2027-04-28': 'daily',
    'd2027-04-27': 'daily',
    'd2027-04-26': 'daily',
    'd2027-04-25': 'daily,weekly', // Sunday: newest of 2027-W16
    'd2027-04-24': 'daily',
    'd2027-04-23': 'daily',
    'd2027-04-18': 'weekly',
    'd2027-04-11': 'weekly',
    'd2027-03-31': 'monthly',
  });
  t.is(plan.prune.length, 50);
  t.true(plan.prune.every((p) => p.reason === 'expired'));
  t.deepEqual(plan.keep.find((k) => k.id === 'd2027-04-18')?.periods, { weekly: '2027-W15' });
  assertPartition(t, input, plan);
});

test('several snapshots a day: the newest of each day counts', (t) => {
  const input = [
    snap('mon-early', '2027-05-03T01:00:00Z'),
    snap('mon-noon', '2027-05-03T12:00:00Z'),
    snap('mon-late', '2027-05-03T23:59:59Z'),
    snap('tue-early', '2027-05-04T00:00:00Z'),
    snap('tue-late', '2027-05-04T18:00:00Z'),
  ];
  const plan = planRetention(input, policy(2, 0, 0));
  t.deepEqual(kept(plan), { 'tue-late': 'latest,daily', 'mon-late': 'daily' });
  t.deepEqual(pruned(plan), ['tue-early', 'mon-noon', 'mon-early']);
});

test('month end: 31 January and 1 February are different months, in UTC', (t) => {
  const input = [
    snap('jan-30', '2027-01-30T10:00:00Z'),
    snap('jan-31', '2027-01-31T20:00:00Z'),
    // 00:30 in Berlin on 1 February is still 31 January in UTC.
    snap('feb-1-berlin', '2027-02-01T00:30:00+01:00'),
    snap('feb-1', '2027-02-01T00:00:01Z'),
  ];
  const plan = planRetention(input, policy(0, 0, 2));
  t.deepEqual(kept(plan), { 'feb-1': 'latest,monthly', 'feb-1-berlin': 'monthly' });
  t.deepEqual(pruned(plan), ['jan-31', 'jan-30']);
});

test('leap year: 29 February 2028 is its own day and the newest of February', (t) => {
  const input = [snap('feb-28', '2028-02-28T02:00:00Z'), snap('feb-29', '2028-02-29T02:00:00Z'), snap('mar-1', '2028-03-01T02:00:00Z')];
  t.deepEqual(kept(planRetention(input, policy(3, 0, 0))), { 'mar-1': 'latest,daily', 'feb-29': 'daily', 'feb-28': 'daily' });
  t.deepEqual(kept(planRetention(input, policy(0, 0, 2))), { 'mar-1': 'latest,monthly', 'feb-29': 'monthly' });
});

test('ISO weeks across the year boundary, including week 53', (t) => {
  t.is(isoWeekKey(new Date('2026-12-28T00:00:00Z')), '2026-W53'); // Monday
  t.is(isoWeekKey(new Date('2027-01-03T23:59:59Z')), '2026-W53'); // Sunday of the same week, next calendar year
  t.is(isoWeekKey(new Date('2027-01-04T00:00:00Z')), '2027-W01');
  t.is(isoWeekKey(new Date('2024-12-30T12:00:00Z')), '2025-W01'); // Monday in December, first week of the next year
  t.is(isoWeekKey(new Date('2021-01-03T12:00:00Z')), '2020-W53');
  t.is(isoWeekKey(new Date('2028-02-29T12:00:00Z')), '2028-W09');

  const input = [snap('dec-28', '2026-12-28T02:00:00Z'), snap('jan-3', '2027-01-03T02:00:00Z'), snap('jan-4', '2027-01-04T02:00:00Z'), snap('dec-21', '2026-12-21T02:00:00Z')];
  const plan = planRetention(input, policy(0, 3, 0));
  t.deepEqual(kept(plan), { 'jan-4': 'latest,weekly', 'jan-3': 'weekly', 'dec-21': 'weekly' });
  t.deepEqual(plan.keep.find((k) => k.id === 'jan-3')?.periods, { weekly: '2026-W53' });
  t.deepEqual(pruned(plan), ['dec-28']);
});

test('gaps: the N most recent days and months that have snapshots are kept, reaching further back', (t) => {
  const input = [
    snap('jun-20', '2027-06-20T02:00:00Z'),
    snap('jun-10', '2027-06-10T02:00:00Z'), // 10-day gap
    snap('jun-9', '2027-06-09T02:00:00Z'),
    snap('feb-15', '2027-02-15T02:00:00Z'), // months without backups in between
    snap('nov-2', '2026-11-02T02:00:00Z'),
    snap('oct-30', '2026-10-30T02:00:00Z'),
  ];
  t.deepEqual(kept(planRetention(input, policy(3, 0, 0))), { 'jun-20': 'latest,daily', 'jun-10': 'daily', 'jun-9': 'daily' });
  const monthly = planRetention(input, policy(0, 0, 3));
  t.deepEqual(kept(monthly), { 'jun-20': 'latest,monthly', 'feb-15': 'monthly', 'nov-2': 'monthly' });
  t.deepEqual(pruned(monthly), ['jun-10', 'jun-9', 'oct-30']);
});

test('incomplete snapshots never count: not as latest, not for a period, and are pruned', (t) => {
  const input = [
    snap('tue-running-or-broken', '2027-05-04T02:00:00Z', false),
    snap('mon-good', '2027-05-03T02:00:00Z'),
    snap('mon-broken', '2027-05-03T23:00:00Z', false), // newer than mon-good, same day
    snap('sun-good', '2027-05-02T02:00:00Z'),
  ];
  const plan = planRetention(input, policy(2, 0, 0));
  t.deepEqual(kept(plan), { 'mon-good': 'latest,daily', 'sun-good': 'daily' });
  t.deepEqual(plan.prune, [
    { id: 'tue-running-or-broken', takenAt: input[0].takenAt, reason: 'incomplete' },
    { id: 'mon-broken', takenAt: input[2].takenAt, reason: 'incomplete' },
  ]);
});

test('a policy of zeros keeps only the newest snapshot', (t) => {
  const input = daily('2027-01-01', 40);
  const plan = planRetention(input, policy(0, 0, 0));
  t.deepEqual(kept(plan), { 'd2027-02-09': 'latest' });
  t.is(plan.prune.length, 39);
});

test('the plan does not depend on input order', (t) => {
  const input = daily('2026-10-01', 120);
  const shuffled = [...input].sort((a, b) => (a.id.split('').reverse().join('') < b.id.split('').reverse().join('') ? -1 : 1));
  t.notDeepEqual(shuffled, input);
  t.deepEqual(planRetention(shuffled), planRetention(input));
});

test('invalid policies, times and duplicate ids are refused with the field named', (t) => {
  const bad: Array<[SnapshotRef[], RetentionPolicy, string]> = [
    [[], policy(-1, 4, 12), 'policy.daily'],
    [[], policy(7, 1.5, 12), 'policy.weekly'],
    [[snap('a', 'not a date')], DEFAULT_RETENTION_POLICY, 'snapshots[0].takenAt'],
    [[snap('a', '2027-01-01T00:00:00Z'), snap('a', '2027-01-02T00:00:00Z')], DEFAULT_RETENTION_POLICY, 'snapshots[1].id'],
  ];
  for (const [input, p, field] of bad) {
    const err = t.throws(() => planRetention(input, p), { instanceOf: AppError });
    t.is(err?.code, 'validation_failed');
    t.deepEqual((err?.details as Array<{ field: string }>)[0].field, field);
  }
});
