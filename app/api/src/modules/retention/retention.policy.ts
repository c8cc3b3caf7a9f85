import { practiceToday } from '../../core/context.ts';

// Statutory retention (§ 630f Abs. 3 BGB: ten years after the end of treatment), configurable
// with PRAXISKERN_RETENTION_YEARS. A record with no treatment has no documentation duty.
export function retentionYears(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.PRAXISKERN_RETENTION_YEARS;
  if (raw === undefined || raw === '') return 10;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new Error(`PRAXISKERN_RETENTION_YEARS must be an integer between 1 and 100, got "${raw}"`);
  return n;
}

/** The first day after the retention period, or null when nothing must be retained. */
export function retentionEndsOn(lastTreatmentOn: string | null, years = retentionYears()): string | null {
  if (!lastTreatmentOn) return null;
  const [y, m, d] = lastTreatmentOn.split('-').map(Number);
  const end = new Date(Date.UTC(y + years, m - 1, d));
  if (end.getUTCMonth() !== m - 1) end.setUTCDate(0); // 29 February → 28 February
  return end.toISOString().slice(0, 10);
}

/** Whether `today` (the practice's calendar day, not UTC's) lies before the end of the retention period. */
export function withinRetention(lastTreatmentOn: string | null, today = practiceToday(), years = retentionYears()): boolean {
  const end = retentionEndsOn(lastTreatmentOn, years);
  return end !== null && today < end;
}
