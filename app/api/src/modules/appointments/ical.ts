// iCalendar (RFC 5545) for a practitioner's feed: only busy times titled "Termin". No patient, no
// type, no room, no notes: a staff member's phone calendar (and whoever syncs it) learns nothing
// about who is treated or why. Times in UTC ("Z"), lines folded at 75 octets, CRLF line ends.

export interface FeedEvent {
  id: string;
  startsAt: Date;
  endsAt: Date;
  updatedAt: Date;
}

const utc = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

/** RFC 5545 § 3.3.11: backslash, semicolon, comma and newlines escaped. */
export function escapeText(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r?\n/g, '\\n');
}

/** RFC 5545 § 3.1: lines longer than 75 octets are folded (CRLF + space), never inside a UTF-8 sequence. */
export function fold(line: string): string {
  const out: string[] = [];
  let current = '';
  let octets = 0;
  for (const ch of line) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (octets + n > (out.length === 0 ? 75 : 74)) {
      out.push(current);
      current = '';
      octets = 0;
    }
    current += ch;
    octets += n;
  }
  out.push(current);
  return out.join('\r\n ');
}

export function renderFeed(o: { calendarName: string; timeZone: string; events: FeedEvent[]; now?: Date }): string {
  const stamp = utc(o.now ?? new Date());
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Praxiskern//Termine//DE',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    `X-WR-CALNAME:${escapeText(o.calendarName)}`,
    `X-WR-TIMEZONE:${escapeText(o.timeZone)}`,
  ];
  for (const e of o.events) {
    lines.push(
      'BEGIN:VEVENT',
      `UID:${e.id}@praxiskern`,
      `DTSTAMP:${stamp}`,
      `LAST-MODIFIED:${utc(e.updatedAt)}`,
      `DTSTART:${utc(e.startsAt)}`,
      `DTEND:${utc(e.endsAt)}`,
      'SUMMARY:Termin',
      'CLASS:PRIVATE',
      'TRANSP:OPAQUE',
      'END:VEVENT',
    );
  }
  lines.push('END:VCALENDAR');
  return lines.map(fold).join('\r\n') + '\r\n';
}
