// Calendar dates as people in the practice type them, independent of the browser's locale:
// German UI "TT.MM.JJJJ" (17.05.1980, 17.5.1980), English UI "DD/MM/YYYY" (17/05/1980) — day
// first in both, so a date never flips between the two languages. ISO "1980-05-17" is read in
// both. Years have four digits: "17.05.80" is refused rather than guessed.
export type DateLocale = 'de' | 'en';

/** The format shown next to date fields. */
export const DATE_PATTERN: Record<DateLocale, string> = { de: 'TT.MM.JJJJ', en: 'DD/MM/YYYY' };

const SEPARATED: Record<DateLocale, RegExp> = {
  de: /^(\d{1,2})\.\s*(\d{1,2})\.\s*(\d{4})$/,
  en: /^(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})$/,
};
const ISO = /^(\d{4})-(\d{2})-(\d{2})$/;

export type ParsedDate = { ok: true; iso: string } | { ok: false; reason: 'empty' | 'format' | 'calendar' };

function iso(year: number, month: number, day: number): string | undefined {
  const d = new Date(Date.UTC(year, month - 1, day));
  if (year < 1000 || d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Reads a typed date in the UI language's order; "31.02.1980" is a calendar error, not 2 March. */
export function parseDate(input: string, locale: DateLocale): ParsedDate {
  const s = input.trim();
  if (!s) return { ok: false, reason: 'empty' };
  const isoMatch = ISO.exec(s);
  const m = isoMatch ? [isoMatch[3], isoMatch[2], isoMatch[1]] : SEPARATED[locale].exec(s)?.slice(1, 4);
  if (!m) return { ok: false, reason: 'format' };
  const [day, month, year] = m.map(Number);
  const value = iso(year, month, day);
  return value ? { ok: true, iso: value } : { ok: false, reason: 'calendar' };
}

/** An ISO calendar date in the UI language's numeric form: 17.05.1980 / 17/05/1980. */
export function formatDate(value: string | null | undefined, locale: DateLocale): string {
  const m = value ? /^(\d{4})-(\d{2})-(\d{2})/.exec(value) : null;
  if (!m) return '';
  return locale === 'de' ? `${m[3]}.${m[2]}.${m[1]}` : `${m[3]}/${m[2]}/${m[1]}`;
}

/** An ISO calendar date in words: "17. Mai 1980" / "17 May 1980" (no time zone can shift it). */
export function dateInWords(value: string, locale: DateLocale): string {
  const m = ISO.exec(value);
  if (!m) return '';
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return new Intl.DateTimeFormat(locale === 'de' ? 'de-DE' : 'en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(date);
}

