// Wall-clock times of the organization's time zone ↔ instants (UTC), with the DST rules of the
// IANA database that Node's Intl carries. Pure functions, no I/O.
//
// A local time that does not exist (the hour skipped when clocks go forward, 02:00–02:59 on
// 2026-03-29 in Europe/Berlin) is refused. A local time that exists twice (02:00–02:59 on
// 2026-10-25, first in summer time +02:00, then in winter time +01:00) resolves to the EARLIER
// instant, the first occurrence; a client that means the second sends an explicit offset
// (2026-10-25T02:30:00+01:00). docs/appointments.md.
import { dayIn } from '../../core/context.ts';

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(zone, f);
  }
  return f;
}

let known: Set<string> | undefined;
/** The canonical IANA name of a zone Node knows, or undefined (offsets such as "+02:00" are not zones). */
export function canonicalTimeZone(zone: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9_+/-]{0,63}$/.test(zone)) return undefined;
  known ??= new Set([...Intl.supportedValuesOf('timeZone'), 'UTC']);
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
    if (known.has(zone)) return zone;
    return known.has(resolved) ? resolved : undefined;
  } catch {
    return undefined;
  }
}

export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall-clock time in the zone at an instant. */
export function wallTime(instant: Date, zone: string): WallTime {
  const parts = Object.fromEntries(formatter(zone).formatToParts(instant).map((p) => [p.type, p.value]));
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour), minute: Number(parts.minute), second: Number(parts.second) };
}

const asUtc = (w: WallTime) => Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);

/** Offset of the zone from UTC at an instant, in milliseconds (+02:00 → 7_200_000). */
export function offsetAt(instant: Date, zone: string): number {
  const ms = Math.floor(instant.getTime() / 1000) * 1000;
  return asUtc(wallTime(new Date(ms), zone)) - ms;
}

export type LocalResolution = { ok: true; instant: Date; ambiguous: boolean } | { ok: false; reason: 'nonexistent' };

/** Every instant at which the zone's clocks show this wall time: none (skipped), one, or two (repeated). */
export function instantsOf(w: WallTime, zone: string): Date[] {
  const local = asUtc(w);
  const offsets = new Set([-36, -12, 0, 12, 36].map((h) => offsetAt(new Date(local + h * 3_600_000), zone)));
  const found = new Set<number>();
  for (const o of offsets) {
    const candidate = local - o;
    if (offsetAt(new Date(candidate), zone) === o) found.add(candidate);
  }
  return [...found].sort((a, b) => a - b).map((ms) => new Date(ms));
}

/** A wall time → its instant; the earlier one when it is ambiguous, refused when it does not exist. */
export function resolveLocal(w: WallTime, zone: string): LocalResolution {
  const all = instantsOf(w, zone);
  if (all.length === 0) return { ok: false, reason: 'nonexistent' };
  return { ok: true, instant: all[0], ambiguous: all.length > 1 };
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})$/;

export type ParsedTime = { ok: true; instant: Date; ambiguous: boolean } | { ok: false; code: 'invalid_format' | 'nonexistent_local_time'; message: string };

/**
 * Reads a time a client sent: an instant with offset or Z (taken as it is), or a local wall time
 * without offset (YYYY-MM-DDTHH:MM[:SS]) in the organization's zone.
 */
export function parseTime(value: string, zone: string): ParsedTime {
  if (INSTANT.test(value)) {
    const d = new Date(value);
    if (!Number.isNaN(d.getTime()) && validCalendar(value)) return { ok: true, instant: d, ambiguous: false };
    return { ok: false, code: 'invalid_format', message: 'is not a valid date and time' };
  }
  const m = LOCAL.exec(value);
  if (!m || !validCalendar(value)) return { ok: false, code: 'invalid_format', message: 'must be YYYY-MM-DDTHH:MM (local time of the organization) or an ISO time with offset' };
  const w = { year: +m[1], month: +m[2], day: +m[3], hour: +m[4], minute: +m[5], second: m[6] ? +m[6] : 0 };
  const r = resolveLocal(w, zone);
  if (!r.ok) return { ok: false, code: 'nonexistent_local_time', message: `does not exist in ${zone} (the clocks skip this hour when summer time begins)` };
  return r;
}

function validCalendar(value: string): boolean {
  const [y, mo, d] = value.slice(0, 10).split('-').map(Number);
  const [h, mi] = value.slice(11, 16).split(':').map(Number);
  const s = value.length >= 19 && value[16] === ':' ? Number(value.slice(17, 19)) : 0;
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

/** YYYY-MM-DD of a calendar day → the instant its first second begins in the zone (midnight or, if skipped, the first time that exists). */
export function startOfDay(day: string, zone: string): Date {
  const [year, month, d] = day.split('-').map(Number);
  for (let minute = 0; minute < 24 * 60; minute += 15) {
    const r = resolveLocal({ year, month, day: d, hour: Math.floor(minute / 60), minute: minute % 60, second: 0 }, zone);
    if (r.ok) return r.instant;
  }
  throw new Error(`no local time exists on ${day} in ${zone}`);
}

/** The calendar day after YYYY-MM-DD. */
export function nextDay(day: string, n = 1): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** The local calendar day (YYYY-MM-DD) of an instant in the zone. */
export function localDay(instant: Date, zone: string): string {
  return dayIn(zone, instant);
}

export interface DayFrame {
  date: string;
  startsAt: Date;
  endsAt: Date;
  /** 23 on the day summer time begins, 25 on the day it ends, else 24 (in zones that observe DST). */
  hours: number;
}

/** Consecutive local days from a first day, with their real bounds in UTC. */
export function dayFrames(first: string, days: number, zone: string): DayFrame[] {
  const out: DayFrame[] = [];
  for (let i = 0; i < days; i++) {
    const date = nextDay(first, i);
    const startsAt = startOfDay(date, zone);
    const endsAt = startOfDay(nextDay(date), zone);
    out.push({ date, startsAt, endsAt, hours: (endsAt.getTime() - startsAt.getTime()) / 3_600_000 });
  }
  return out;
}
