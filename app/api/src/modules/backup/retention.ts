// Retention planner (pure): which snapshots to keep under a daily/weekly/monthly policy and why.
// Semantics of restic's and borg's --keep-daily/--keep-weekly/--keep-monthly: per bucket, the
// newest snapshot of a period (UTC day, ISO 8601 week, UTC month) represents it, and the N most
// recent periods that have a snapshot are kept. The newest snapshot is always kept. Incomplete
// (unverified, no manifest) snapshots never count for anything and are pruned — so callers pass
// only snapshots whose writer has finished (a running backup holds the backup lock).
import { validation } from '../../core/errors.ts';

export interface RetentionPolicy {
  daily: number;
  weekly: number;
  monthly: number;
}

export const DEFAULT_RETENTION_POLICY: Readonly<RetentionPolicy> = Object.freeze({ daily: 7, weekly: 4, monthly: 12 });

export interface SnapshotRef {
  id: string;
  takenAt: Date;
  /** True once the snapshot's manifest is written and verified. */
  complete: boolean;
}

export type KeepReason = 'latest' | 'daily' | 'weekly' | 'monthly';
export type PruneReason = 'expired' | 'incomplete';

export interface RetentionPlan {
  /** Newest first; `periods` names the bucket period each reason stands for (e.g. weekly: "2026-W53"). */
  keep: Array<{ id: string; takenAt: Date; reasons: KeepReason[]; periods: Partial<Record<KeepReason, string>> }>;
  prune: Array<{ id: string; takenAt: Date; reason: PruneReason }>;
}

type Bucket = 'daily' | 'weekly' | 'monthly';
const BUCKETS: Bucket[] = ['daily', 'weekly', 'monthly'];
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

export const dayKey = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
export const monthKey = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}`;

/** ISO 8601 week ("2026-W53"): weeks start on Monday; week 1 holds the year's first Thursday. */
export function isoWeekKey(d: Date): string {
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const weekday = (d.getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const thursday = new Date(day + (3 - weekday) * 86_400_000);
  const isoYear = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(isoYear, 0, 1)) / (7 * 86_400_000));
  return `${isoYear}-W${pad(week)}`;
}

const PERIOD: Record<Bucket, (d: Date) => string> = { daily: dayKey, weekly: isoWeekKey, monthly: monthKey };

function validate(snapshots: SnapshotRef[], policy: RetentionPolicy) {
  for (const bucket of BUCKETS) {
    if (!Number.isInteger(policy[bucket]) || policy[bucket] < 0) throw validation(`policy.${bucket}`, 'must be a whole number ≥ 0');
  }
  const ids = new Set<string>();
  for (const [i, s] of snapshots.entries()) {
    if (!(s.takenAt instanceof Date) || Number.isNaN(s.takenAt.getTime())) throw validation(`snapshots[${i}].takenAt`, 'is not a valid time');
    if (ids.has(s.id)) throw validation(`snapshots[${i}].id`, `duplicate snapshot id ${s.id}`);
    ids.add(s.id);
  }
}

export function planRetention(snapshots: SnapshotRef[], policy: RetentionPolicy = DEFAULT_RETENTION_POLICY): RetentionPlan {
  validate(snapshots, policy);
  const newestFirst = [...snapshots].sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime() || (a.id < b.id ? 1 : -1));
  const complete = newestFirst.filter((s) => s.complete);
  const reasons = new Map<string, Partial<Record<KeepReason, string>>>();
  const mark = (id: string, reason: KeepReason, period: string) => reasons.set(id, { ...reasons.get(id), [reason]: period });

  if (complete.length > 0) mark(complete[0].id, 'latest', complete[0].takenAt.toISOString());
  for (const bucket of BUCKETS) {
    let kept = 0;
    let lastPeriod: string | undefined;
    for (const snapshot of complete) {
      if (kept >= policy[bucket]) break;
      const period = PERIOD[bucket](snapshot.takenAt);
      if (period === lastPeriod) continue; // an older snapshot of a period already represented
      mark(snapshot.id, bucket, period);
      lastPeriod = period;
      kept++;
    }
  }

  const plan: RetentionPlan = { keep: [], prune: [] };
  for (const { id, takenAt, complete: isComplete } of newestFirst) {
    const periods = reasons.get(id);
    if (periods) plan.keep.push({ id, takenAt, reasons: (['latest', ...BUCKETS] as KeepReason[]).filter((r) => r in periods), periods });
    else plan.prune.push({ id, takenAt, reason: isComplete ? 'expired' : 'incomplete' });
  }
  return plan;
}
