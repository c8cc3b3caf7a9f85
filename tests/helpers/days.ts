// Calendar days for tests, in the practice's zone (Europe/Berlin, every organization's default).
// "Today" is the Berlin calendar day (just after midnight in Berlin UTC is still in the day
// before), and days are counted on the calendar, never in steps of 24 hours: a DST change makes
// one day 23 and another 25 hours long, so now ± n × 24 h lands on the wrong day for an hour of
// the week around it.

import { dayIn } from '../../app/api/src/core/context.ts';

export { dayIn };
export const PRACTICE_ZONE = 'Europe/Berlin';

/** YYYY-MM-DD plus n calendar days. */
export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** Today in Berlin plus n calendar days. */
export function berlinDay(offsetDays = 0, at: Date = new Date()): string {
  return addDays(dayIn(PRACTICE_ZONE, at), offsetDays);
}

/** The last Sunday of a month (1–12) of a year: the EU's DST change days are those of March and October. */
export function lastSunday(year: number, month: number): string {
  const last = new Date(Date.UTC(year, month, 0));
  return addDays(last.toISOString().slice(0, 10), -last.getUTCDay());
}

/** Midnight at the start of a Berlin calendar day, as an instant (it always exists: the clocks change at 02:00/03:00). */
export function berlinMidnight(day: string): Date {
  for (const off of ['+01:00', '+02:00']) {
    const at = new Date(`${day}T00:00:00${off}`);
    const hour = new Intl.DateTimeFormat('en-GB', { timeZone: PRACTICE_ZONE, hour: '2-digit', hourCycle: 'h23' }).format(at);
    if (dayIn(PRACTICE_ZONE, at) === day && hour === '00') return at;
  }
  throw new Error(`no midnight on ${day} in ${PRACTICE_ZONE}`);
}
