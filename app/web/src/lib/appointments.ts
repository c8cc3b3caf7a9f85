// Times of the calendar: shown in the ORGANIZATION's time zone (from the API) and the UI language,
// never the browser's zone or locale. Local wall times are sent to the API without an offset
// (YYYY-MM-DDTHH:MM); the API resolves them in the organization's zone (a skipped DST hour is a
// 400, a repeated one is its first occurrence — docs/appointments.md).
import type { Locale } from './i18n/i18n.svelte.ts';

const tag = (locale: Locale) => (locale === 'de' ? 'de-DE' : 'en-GB');

const cache = new Map<string, Intl.DateTimeFormat>();
function fmt(locale: Locale, zone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${zone}|${JSON.stringify(options)}`;
  let f = cache.get(key);
  if (!f) cache.set(key, (f = new Intl.DateTimeFormat(tag(locale), { timeZone: zone, ...options })));
  return f;
}

/** 09:30 (both languages use the 24-hour clock here). */
export function clock(instant: string | Date, locale: Locale, zone: string): string {
  return fmt(locale, zone, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(instant));
}

/** "Mo., 29.03.2026" / "Mon, 29/03/2026" */
export function dayLabel(day: string, locale: Locale): string {
  return fmt(locale, 'UTC', { weekday: 'short', day: '2-digit', month: '2-digit', year: 'numeric' }).format(new Date(`${day}T12:00:00Z`));
}

/** "Sonntag, 29. März 2026" */
export function longDayLabel(day: string, locale: Locale): string {
  return fmt(locale, 'UTC', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(`${day}T12:00:00Z`));
}

/** The offset shown next to a time on DST days, e.g. "GMT+2". */
export function zoneName(instant: string | Date, locale: Locale, zone: string): string {
  return fmt(locale, zone, { timeZoneName: 'short' }).formatToParts(new Date(instant)).find((p) => p.type === 'timeZoneName')?.value ?? '';
}

/** The zone's offset at an instant as ISO text ("+02:00"), to name one of two equal wall times. */
export function isoOffset(instant: string | Date, zone: string): string {
  const name = fmt('en', zone, { timeZoneName: 'longOffset' }).formatToParts(new Date(instant)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-]\d{2}):?(\d{2})?/.exec(name);
  return m ? `${m[1]}:${m[2] ?? '00'}` : '+00:00';
}

/** The organization's local calendar day and wall time of an instant. */
export function localParts(instant: string | Date, zone: string): { day: string; time: string } {
  const parts = Object.fromEntries(fmt('en', zone, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .formatToParts(new Date(instant)).map((p) => [p.type, p.value]));
  return { day: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` };
}

/** Today in the organization's zone (not the browser's). */
export function todayIn(zone: string): string {
  return localParts(new Date(), zone).day;
}

export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** Monday of the week of a day. */
export function mondayOf(day: string): string {
  const dow = new Date(`${day}T12:00:00Z`).getUTCDay();
  return addDays(day, -((dow + 6) % 7));
}

/** The real hours of a day frame (23 or 25 on DST days), as instants. */
export function hourSlots(frame: { startsAt: string; endsAt: string }): Date[] {
  const out: Date[] = [];
  for (let t = new Date(frame.startsAt).getTime(); t < new Date(frame.endsAt).getTime(); t += 3_600_000) out.push(new Date(t));
  return out;
}

/** HH:MM typed by a user → normalized, or undefined. */
export function parseClock(input: string): string | undefined {
  const m = /^(\d{1,2})[:.](\d{2})$/.exec(input.trim());
  if (!m || +m[1] > 23 || +m[2] > 59) return undefined;
  return `${m[1].padStart(2, '0')}:${m[2]}`;
}

export const minutesBetween = (a: string, b: string) => Math.round((new Date(b).getTime() - new Date(a).getTime()) / 60_000);

/** An instant moved by minutes, as ISO with Z (moves by keyboard keep exact instants across DST). */
export const shift = (instant: string, minutes: number) => new Date(new Date(instant).getTime() + minutes * 60_000).toISOString();
