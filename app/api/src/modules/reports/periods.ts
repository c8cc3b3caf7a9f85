// Calendar arithmetic on YYYY-MM-DD days (no time zone: the SQL buckets in the organization's zone).
export const addDays = (day: string, n: number): string => {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
};
export const daysBetween = (a: string, b: string): number => Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
/** ISO weekday, 1 = Monday … 7 = Sunday. */
export const isoWeekday = (day: string): number => ((new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7) + 1;

export function periodStart(day: string, granularity: 'week' | 'month'): string {
  return granularity === 'week' ? addDays(day, 1 - isoWeekday(day)) : `${day.slice(0, 7)}-01`;
}

function nextPeriod(start: string, granularity: 'week' | 'month'): string {
  if (granularity === 'week') return addDays(start, 7);
  const [y, m] = start.split('-').map(Number);
  return m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
}

/** Every period that touches [from, to], each with the days of the range inside it. */
export function periods(from: string, to: string, granularity: 'week' | 'month'): { start: string; first: string; last: string }[] {
  const out = [];
  for (let p = periodStart(from, granularity); p <= to; p = nextPeriod(p, granularity)) {
    const end = addDays(nextPeriod(p, granularity), -1);
    out.push({ start: p, first: p < from ? from : p, last: end > to ? to : end });
  }
  return out;
}

/** The range of the same length right before [from, to]. */
export function previousRange(from: string, to: string): { from: string; to: string } {
  const len = daysBetween(from, to) + 1;
  return { from: addDays(from, -len), to: addDays(from, -1) };
}

/** Working days in [first, last]. */
export function workDaysIn(first: string, last: string, days: number[]): number {
  let n = 0;
  for (let d = first; d <= last; d = addDays(d, 1)) if (days.includes(isoWeekday(d))) n++;
  return n;
}
