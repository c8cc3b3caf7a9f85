// The current language as a Svelte 5 rune class. German by default; the choice is remembered in
// the browser and, once signed in, in the user's profile (PATCH /session/locale).
import { de, type MessageKey, type Messages } from './de.ts';
import { en } from './en.ts';
import { formatDate } from '../dates.ts';

export const LOCALES = ['de', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

const CATALOGUES: Record<Locale, Messages> = { de, en };
const STORAGE_KEY = 'praxiskern.locale';

type ParamNames<S extends string> = S extends `${string}{${infer P}}${infer Rest}` ? P | ParamNames<Rest> : never;
/** t('key') for plain messages, t('key', { name }) when the German text has {name}. */
export type MessageArgs<K extends MessageKey> = [ParamNames<(typeof de)[K]>] extends [never]
  ? []
  : [params: Record<ParamNames<(typeof de)[K]>, string | number>];

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

function storedLocale(): Locale | undefined {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return isLocale(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export class I18n {
  locale = $state<Locale>(storedLocale() ?? 'de');
  /** The practice's time zone once signed in (the session sets it): timestamps are shown in it, not in the browser's. */
  timeZone = $state<string | undefined>(undefined);

  /** Translates a key; placeholders in braces are filled from params. */
  t = <K extends MessageKey>(key: K, ...args: MessageArgs<K>): string => {
    const text: string = CATALOGUES[this.locale][key];
    const params = args[0] as Record<string, string | number> | undefined;
    if (!params) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
  };

  /** The message for a key built at runtime (from a server error code), if there is one. */
  lookup(key: string): string | undefined {
    return key in de ? CATALOGUES[this.locale][key as MessageKey] : undefined;
  }

  set(locale: Locale): void {
    this.locale = locale;
    try {
      localStorage.setItem(STORAGE_KEY, locale);
    } catch {
      /* private mode: the choice lasts for this page */
    }
  }

  /** Formats a timestamp for the current language (dates in German order for 'de'), in the practice's time zone. */
  dateTime(value: string | Date | null | undefined): string {
    if (!value) return '';
    const date = typeof value === 'string' ? new Date(value) : value;
    if (Number.isNaN(date.getTime())) return '';
    return new Intl.DateTimeFormat(this.locale === 'de' ? 'de-DE' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: this.timeZone }).format(date);
  }

  /** A calendar date (YYYY-MM-DD, no time zone) as 17.05.1980 or 17/05/1980. */
  date(value: string | null | undefined): string {
    return formatDate(value, this.locale);
  }

  /** A number in the current language (1,5 / 1.5; 12.345 / 12,345). */
  number(n: number): string {
    return new Intl.NumberFormat(this.locale === 'de' ? 'de-DE' : 'en-GB').format(n);
  }

  /** A file size in kB or MB. */
  bytes(n: number): string {
    const fmt = new Intl.NumberFormat(this.locale === 'de' ? 'de-DE' : 'en-GB', { maximumFractionDigits: 1 });
    return n < 1024 * 1024 ? `${fmt.format(Math.max(n / 1024, 0.1))} kB` : `${fmt.format(n / 1024 / 1024)} MB`;
  }
}

export const i18n = new I18n();
/** Shorthand for components: `t('nav.home')`. Reactive because it reads i18n.locale. */
export const t = i18n.t;
