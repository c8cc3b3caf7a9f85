// Cron schedules in words, in the UI language: "täglich um 02:30", "sonntags um 03:00",
// "am 1. des Monats um 04:00" / "daily at 02:30", "Sundays at 03:00", "on the 1st of the month at 04:00".
// Covers the schedules the product uses (backup, restore drill) and common forms; anything else is
// answered as not understood, and the UI shows the raw expression with an explanation. Pure: no
// imports, so the unit test runs it directly.

export type CronLocale = 'de' | 'en';
export interface CronWords {
  /** The words, or the raw expression when `understood` is false. */
  text: string;
  understood: boolean;
}

const DAYS = {
  de: { one: ['Sonntag', 'Montag', 'Dienstag', 'Mittwoch', 'Donnerstag', 'Freitag', 'Samstag'], every: ['sonntags', 'montags', 'dienstags', 'mittwochs', 'donnerstags', 'freitags', 'samstags'] },
  en: { one: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'], every: ['Sundays', 'Mondays', 'Tuesdays', 'Wednesdays', 'Thursdays', 'Fridays', 'Saturdays'] },
};
const MONTHS = {
  de: ['Januar', 'Februar', 'März', 'April', 'Mai', 'Juni', 'Juli', 'August', 'September', 'Oktober', 'November', 'Dezember'],
  en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
};
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *',
};

const pad = (n: number) => String(n).padStart(2, '0');
const int = (s: string, min: number, max: number): number | undefined => (/^\d{1,2}$/.test(s) && Number(s) >= min && Number(s) <= max ? Number(s) : undefined);

/** A list of numbers ("1,3,5", "1-5", names) within bounds, or undefined. */
function values(field: string, min: number, max: number, names?: string[]): number[] | undefined {
  const out = new Set<number>();
  for (const part of field.toLowerCase().split(',')) {
    const named = (s: string) => (names && names.includes(s) ? names.indexOf(s) + min : int(s, min, max));
    const range = /^([a-z0-9]+)-([a-z0-9]+)$/.exec(part);
    if (range) {
      const a = named(range[1]);
      const b = named(range[2]);
      if (a === undefined || b === undefined || a > b) return undefined;
      for (let i = a; i <= b; i++) out.add(i);
    } else {
      const v = named(part);
      if (v === undefined) return undefined;
      out.add(v);
    }
  }
  return [...out].sort((x, y) => x - y);
}

function joinList(items: string[], locale: CronLocale): string {
  if (items.length <= 1) return items.join('');
  const and = locale === 'de' ? ' und ' : ' and ';
  return `${items.slice(0, -1).join(', ')}${and}${items[items.length - 1]}`;
}

function ordinal(n: number, locale: CronLocale): string {
  if (locale === 'de') return `${n}.`;
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${s}`;
}

/** Consecutive weekdays (at least three) as a span: "montags bis freitags" / "Monday to Friday". */
function weekdays(days: number[], locale: CronLocale): string {
  const names = DAYS[locale];
  const consecutive = days.length >= 3 && days.every((d, i) => i === 0 || d === days[i - 1] + 1);
  if (consecutive) return locale === 'de' ? `${names.every[days[0]]} bis ${names.every[days[days.length - 1]]}` : `${names.one[days[0]]} to ${names.one[days[days.length - 1]]}`;
  return joinList(days.map((d) => names.every[d]), locale);
}

export function cronToWords(expression: string, locale: CronLocale): CronWords {
  const raw = expression.trim();
  const fallback = { text: raw, understood: false };
  let fields = (MACROS[raw.toLowerCase()] ?? raw).split(/\s+/);
  if (fields.length === 6) {
    if (fields[0] !== '0') return fallback; // seconds other than 0: not a schedule people write
    fields = fields.slice(1);
  }
  if (fields.length !== 5) return fallback;
  const [min, hour, dom, mon, dow] = fields;
  const de = locale === 'de';

  // Every N minutes / every N hours.
  const everyMin = /^\*\/(\d{1,2})$/.exec(min);
  if (everyMin && hour === '*' && dom === '*' && mon === '*' && dow === '*') {
    const n = Number(everyMin[1]);
    if (n < 1 || n > 59) return fallback;
    return { text: n === 1 ? (de ? 'jede Minute' : 'every minute') : de ? `alle ${n} Minuten` : `every ${n} minutes`, understood: true };
  }
  if (min === '*' && hour === '*' && dom === '*' && mon === '*' && dow === '*') return { text: de ? 'jede Minute' : 'every minute', understood: true };
  const minute = int(min, 0, 59);
  if (minute === undefined) return fallback;
  if (dom === '*' && mon === '*' && dow === '*') {
    if (hour === '*') return { text: de ? `stündlich zur Minute ${minute}` : `every hour at minute ${minute}`, understood: true };
    const everyHour = /^\*\/(\d{1,2})$/.exec(hour);
    if (everyHour) {
      const n = Number(everyHour[1]);
      if (n < 1 || n > 23) return fallback;
      return { text: de ? `alle ${n} Stunden zur Minute ${minute}` : `every ${n} hours at minute ${minute}`, understood: true };
    }
  }
  const hours = values(hour, 0, 23);
  if (!hours || hours.length > 6) return fallback;
  const at = `${de ? 'um' : 'at'} ${joinList(hours.map((h) => `${pad(h)}:${pad(minute)}`), locale)}`;

  const days = dow === '*' ? undefined : values(dow.replace(/\b7\b/g, '0'), 0, 6, DAY_NAMES);
  if (dow !== '*' && !days) return fallback;
  const months = mon === '*' ? undefined : values(mon, 1, 12, MONTH_NAMES);
  if (mon !== '*' && !months) return fallback;
  const dates = dom === '*' ? undefined : values(dom, 1, 31);
  if (dom !== '*' && !dates) return fallback;
  if (dates && days) return fallback; // cron's "either" rule: too surprising to put in words

  const inMonths = months ? (de ? ` im ${joinList(months.map((m) => MONTHS.de[m - 1]), 'de')}` : ` in ${joinList(months.map((m) => MONTHS.en[m - 1]), 'en')}`) : '';
  if (dates) {
    const list = joinList(dates.map((d) => ordinal(d, locale)), locale);
    const text = months
      ? de ? `am ${list}${inMonths} ${at}` : `on the ${list}${inMonths} ${at}`
      : de ? `am ${list} des Monats ${at}` : `on the ${list} of the month ${at}`;
    return { text, understood: true };
  }
  if (days) {
    if (days.length === 7) return { text: `${de ? 'täglich' : 'daily'}${inMonths} ${at}`, understood: true };
    return { text: `${weekdays(days, locale)}${inMonths} ${at}`, understood: true };
  }
  return { text: `${de ? 'täglich' : 'daily'}${inMonths} ${at}`, understood: true };
}
