// The DST rules of appointment times (Europe/Berlin 2026, other zones) and the iCalendar format.
import test from 'ava';
import { canonicalTimeZone, dayFrames, instantsOf, parseTime, startOfDay } from '../../app/api/src/modules/appointments/time-zone.ts';
import { escapeText, fold, renderFeed } from '../../app/api/src/modules/appointments/ical.ts';

const BERLIN = 'Europe/Berlin';
const iso = (r: ReturnType<typeof parseTime>) => (r.ok ? r.instant.toISOString() : r.code);

test('2026-03-29 in Berlin: 02:00–02:59 do not exist, 01:59 and 03:00 are one real minute apart', (t) => {
  for (const v of ['2026-03-29T02:00', '2026-03-29T02:30', '2026-03-29T02:59']) t.is(iso(parseTime(v, BERLIN)), 'nonexistent_local_time', v);
  t.is(iso(parseTime('2026-03-29T01:59', BERLIN)), '2026-03-29T00:59:00.000Z');
  t.is(iso(parseTime('2026-03-29T03:00', BERLIN)), '2026-03-29T01:00:00.000Z');
});

test('2026-10-25 in Berlin: 02:30 happens twice; the first (CEST) is chosen, an offset selects either', (t) => {
  const r = parseTime('2026-10-25T02:30', BERLIN);
  t.true(r.ok && r.ambiguous);
  t.is(iso(r), '2026-10-25T00:30:00.000Z');
  t.deepEqual(instantsOf({ year: 2026, month: 10, day: 25, hour: 2, minute: 30, second: 0 }, BERLIN).map((d) => d.toISOString()), ['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']);
  t.is(iso(parseTime('2026-10-25T02:30:00+01:00', BERLIN)), '2026-10-25T01:30:00.000Z');
  t.is(iso(parseTime('2026-10-25T02:30:00+02:00', BERLIN)), '2026-10-25T00:30:00.000Z');
  t.is(iso(parseTime('2026-10-25T03:00', BERLIN)), '2026-10-25T02:00:00.000Z');
});

test('day frames: 23 hours in spring, 25 in autumn, 24 otherwise; a zone without DST is always 24', (t) => {
  t.deepEqual(dayFrames('2026-03-28', 3, BERLIN).map((d) => d.hours), [24, 23, 24]);
  t.deepEqual(dayFrames('2026-10-24', 3, BERLIN).map((d) => d.hours), [24, 25, 24]);
  t.deepEqual(dayFrames('2026-03-28', 3, 'Asia/Tokyo').map((d) => d.hours), [24, 24, 24]);
  t.is(dayFrames('2026-10-25', 1, BERLIN)[0].startsAt.toISOString(), '2026-10-24T22:00:00.000Z');
  // A zone whose clocks skip midnight: the day starts at the first time that exists (Havana, 2026-03-08).
  t.is(startOfDay('2026-03-08', 'America/Havana').toISOString(), '2026-03-08T05:00:00.000Z');
});

test('time zones: IANA names only; aliases resolve; offsets and invented names do not', (t) => {
  t.is(canonicalTimeZone('Europe/Berlin'), 'Europe/Berlin');
  t.is(canonicalTimeZone('UTC'), 'UTC');
  for (const bad of ['Mars/Olympus', '+02:00', 'CEST', '', 'Europe/Berlin; drop', 'Europe/../etc']) t.is(canonicalTimeZone(bad), undefined, bad);
});

test('malformed or impossible local times are invalid_format', (t) => {
  for (const v of ['2026-02-29T10:00', '2026-13-01T10:00', '2026-05-06T24:00', '2026-05-06 10:00', 'tomorrow', '2026-05-06T10:00:00+25:00']) t.is(iso(parseTime(v, BERLIN)), 'invalid_format', v);
});

test('iCalendar: CRLF, 75-octet folding that never splits a UTF-8 sequence, escaped text, UTC times', (t) => {
  const long = `X-TEST:${'ä'.repeat(80)}`;
  const folded = fold(long);
  for (const line of folded.split('\r\n')) t.true(Buffer.byteLength(line) <= 75);
  t.is(folded.split('\r\n').map((l, i) => (i ? l.slice(1) : l)).join(''), long);
  t.is(escapeText('a;b,c\\d\ne'), 'a\\;b\\,c\\\\d\\ne');
  const body = renderFeed({ calendarName: 'Praxiskern', timeZone: BERLIN, now: new Date('2026-05-01T00:00:00Z'), events: [
    { id: '11111111-1111-4111-8111-111111111111', startsAt: new Date('2026-05-04T07:00:00Z'), endsAt: new Date('2026-05-04T07:30:00Z'), updatedAt: new Date('2026-05-01T09:00:00Z') },
  ] });
  t.true(body.includes('\r\nDTSTART:20260504T070000Z\r\nDTEND:20260504T073000Z\r\nSUMMARY:Termin\r\n'));
  t.true(body.endsWith('END:VCALENDAR\r\n'));
  t.false(/[^\r]\n/.test(body));
});
