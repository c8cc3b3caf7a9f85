// Search as you type (issue 12, item 1): pure helpers, no Svelte, so they are unit-tested under
// Node. The server matches through blind indexes and returns the matches newest first (it cannot
// sort encrypted names); when the whole matched set fits in one answer, the client sorts it by name.

/** One answer holds at most this many matches; up to this many the client orders by name. */
export const QUICK_LIMIT = 25;
/** Wait this long after the last keystroke before asking the server. */
export const DEBOUNCE_MS = 180;

export interface Named {
  familyName: string;
  givenName: string;
  birthDate: string;
  id: string;
}

/** Collation of the UI language: "Müller" sorts with "Mueller" in German (umlaut as base letter). */
export function orderByName<T extends Named>(items: readonly T[], locale: 'de' | 'en'): T[] {
  const collator = new Intl.Collator(locale === 'de' ? 'de-DE' : 'en-GB', { sensitivity: 'base', numeric: true });
  return [...items].sort((a, b) =>
    collator.compare(a.familyName, b.familyName) || collator.compare(a.givenName, b.givenName) || a.birthDate.localeCompare(b.birthDate) || a.id.localeCompare(b.id));
}

/**
 * The order to show: by name when the answer holds every match (total ≤ items), otherwise the
 * server's order (newest first), and which of the two it is, for the one-line explanation.
 */
export function presentMatches<T extends Named>(items: readonly T[], total: number, locale: 'de' | 'en'): { items: T[]; byName: boolean } {
  return total <= items.length ? { items: orderByName(items, locale), byName: true } : { items: [...items], byName: false };
}

/** Full years on `today` (YYYY-MM-DD) for a birth date (YYYY-MM-DD). */
export function ageOn(birth: string, today: string): number {
  const [by, bm, bd] = birth.split('-').map(Number);
  const [y, m, d] = today.split('-').map(Number);
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}


/**
 * Whether a text is worth sending: the server refuses name parts under 3 letters; a date, a phone
 * number or a patient number (a word with a digit) may be shorter.
 */
export function searchable(text: string): boolean {
  const s = text.trim();
  if (!s) return false;
  if (/\d/.test(s) || s.includes('@')) return true;
  return s.split(/\s+/).every((w) => w.replace(/[^\p{L}\p{N}]/gu, '').length >= 3);
}

/** The next highlighted option for ArrowUp/ArrowDown/Home/End (-1: none), wrapping around. */
export function moveActive(current: number, count: number, key: string): number {
  if (count === 0) return -1;
  switch (key) {
    case 'ArrowDown': return current < 0 ? 0 : (current + 1) % count;
    case 'ArrowUp': return current < 0 ? count - 1 : (current - 1 + count) % count;
    case 'Home': return 0;
    case 'End': return count - 1;
    default: return current;
  }
}

/** Whether a keydown is the global search shortcut: F2 anywhere, "/" when not typing in a field. */
export function isSearchShortcut(e: { key: string; ctrlKey: boolean; metaKey: boolean; altKey: boolean }, target: { tagName?: string; isContentEditable?: boolean } | null): boolean {
  if (e.ctrlKey || e.metaKey || e.altKey) return false;
  if (e.key === 'F2') return true;
  if (e.key !== '/') return false;
  const tag = target?.tagName?.toUpperCase();
  return !(tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || target?.isContentEditable);
}

/**
 * Runs the newest search only: each call aborts the one before (its request is cancelled and its
 * answer dropped), and waits `delay` ms so a burst of keystrokes becomes one request.
 */
export class LatestSearch<T> {
  #controller: AbortController | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly run: (text: string, signal: AbortSignal) => Promise<T>;
  readonly delay: number;
  constructor(run: (text: string, signal: AbortSignal) => Promise<T>, delay = DEBOUNCE_MS) {
    this.run = run;
    this.delay = delay;
  }

  /** Resolves with the answer, or with undefined when a newer call superseded this one. */
  request(text: string, delay = this.delay): Promise<T | undefined> {
    this.cancel();
    const controller = new AbortController();
    this.#controller = controller;
    return new Promise<T | undefined>((resolve, reject) => {
      this.#timer = setTimeout(() => {
        this.run(text, controller.signal).then(
          (value) => resolve(controller.signal.aborted ? undefined : value),
          (err) => (controller.signal.aborted ? resolve(undefined) : reject(err)),
        );
      }, delay);
      controller.signal.addEventListener('abort', () => resolve(undefined), { once: true });
    });
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.#controller?.abort();
    this.#controller = undefined;
  }
}
