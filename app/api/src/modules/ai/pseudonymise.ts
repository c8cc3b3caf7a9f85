// Pseudonymisation before anything leaves for Anthropic (docs/ai.md). Free text is scrubbed of the
// patient's known identifiers in every spelling (case, umlaut/ß transliterations both ways,
// initials, split across lines or hyphenated, possessives) and of identifier patterns (phones in
// German and international formats, e-mails, dates numeric and written out, IBANs, URLs). Each
// distinct value becomes a token such as [NAME_1]; the token map lives in this object only (memory,
// never stored or logged) and turns the answer back into clear text locally. leakCheck() is the
// final gate: it searches the exact strings about to be sent for every known identifier, normalised.

export const CATEGORIES = ['name', 'birth_date', 'phone', 'email', 'address', 'insurance_number', 'patient_number', 'iban', 'url', 'date', 'id_number'] as const;
export type IdentifierCategory = (typeof CATEGORIES)[number];

const TOKEN_PREFIX: Record<IdentifierCategory, string> = {
  name: 'NAME', birth_date: 'DATE', phone: 'PHONE', email: 'EMAIL', address: 'ADDRESS', insurance_number: 'ID', patient_number: 'ID',
  iban: 'IBAN', url: 'URL', date: 'DATE', id_number: 'ID',
};

export interface KnownIdentifiers {
  /** The patient's given and family names (each part of a double name counts too). */
  patientNames: string[];
  /** Relatives or contacts where known. */
  relativeNames?: string[];
  /** Display names of the organization's users. */
  staffNames?: string[];
  birthDate?: string | null;
  phones?: string[];
  emails?: string[];
  /** Street with number, postal code (the city alone is not treated as identifying). */
  address?: { street?: string; postalCode?: string } | null;
  insuranceNumber?: string | null;
  patientNumber?: string | null;
}

const MONTHS_DE = ['januar', 'februar', 'märz', 'april', 'mai', 'juni', 'juli', 'august', 'september', 'oktober', 'november', 'dezember'];
const MONTHS_EN = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const MONTH_WORDS = '(?:mrz|jan(?:uar|uary)?|j[äa]n(?:ner)?|feb(?:ruar|ruary)?|m[äa]r(?:z|ch)?|maerz|apr(?:il)?|mai|may|jun[ie]?|jul[iy]?|aug(?:ust)?|sep(?:t(?:ember)?)?|o[ck]t(?:ober)?|nov(?:ember)?|de[zc](?:ember)?)';

/** Lower case, umlauts as ae/oe/ue, ß as ss, other accents dropped: "Müller" and "MUELLER" → "mueller". */
export function foldExpanded(s: string): string {
  return s.toLowerCase().replace(/ä/g, 'ae').replace(/ö/g, 'oe').replace(/ü/g, 'ue').replace(/ß/g, 'ss')
    .normalize('NFD').replace(/\p{M}/gu, '');
}
/** Lower case, umlauts as plain vowels, ae/oe/ue as plain vowels too: "Müller", "Mueller", "Muller" → "muller". */
export function foldPlain(s: string): string {
  return s.toLowerCase().replace(/ß/g, 'ss').normalize('NFD').replace(/\p{M}/gu, '').replace(/ae/g, 'a').replace(/oe/g, 'o').replace(/ue/g, 'u');
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Between two letters of a name: a line break (with or without hyphen) or a soft hyphen. */
const SPLIT = '(?:[-\\u2010\\u2011]?[ \\t]*\\r?\\n[ \\t]*|\\u00AD)?';

/** A regular expression matching one name in any spelling, split across lines, with possessive endings. */
function namePattern(name: string): string {
  const s = name.normalize('NFC').toLowerCase();
  const parts: string[] = [];
  const UNITS: Record<string, string> = { ä: '(?:ä|ae|a)', ae: '(?:ä|ae|a)', ö: '(?:ö|oe|o)', oe: '(?:ö|oe|o)', ü: '(?:ü|ue|u)', ue: '(?:ü|ue|u)', ß: '(?:ß|ss|s)', ss: '(?:ß|ss|s)' };
  for (let i = 0; i < s.length;) {
    const two = s.slice(i, i + 2);
    if (UNITS[two]) {
      parts.push(UNITS[two]);
      i += 2;
      continue;
    }
    const c = s[i++];
    if (UNITS[c]) parts.push(UNITS[c]);
    else if (/[\s\-]/.test(c)) parts.push('[\\s\\-]*');
    else {
      const base = c.normalize('NFD').replace(/\p{M}/gu, '');
      parts.push(base === c ? escape(c) : `(?:${escape(c)}|${escape(base)})`);
    }
  }
  return parts.join(SPLIT);
}

// Names end where letters end ("Müller2", "mueller12@…" still hold the name); numbers where digits end.
const WORD_BEFORE = '(?<![\\p{L}])';
const WORD_AFTER = '(?![\\p{L}])';
const NUM_BEFORE = '(?<![\\p{L}\\p{N}])';
const NUM_AFTER = '(?![\\p{N}])';
const POSSESSIVE = "(?:['’´`]?s'?|['’])?";

interface Rule {
  category: IdentifierCategory;
  re: RegExp;
  /** Letters of the name as lettersOnly() gives them: a rule whose key is not in the text cannot match (a cheap pre-check). */
  key?: string;
}

/** Folded letters only: every spelling a name rule matches (case, umlaut forms, ß/ss/s, accents, line breaks, hyphens) maps to the same string. */
export function lettersOnly(s: string): string {
  return foldPlain(s).replace(/[^\p{L}]/gu, '').replace(/ss/g, 's');
}

/** Germans write dates many ways; the birth date in each of them (for scrubbing and the leak check). */
export function dateSpellings(iso: string): string[] {
  const [y, m, d] = iso.split('-').map(Number);
  const dd = String(d).padStart(2, '0');
  const mm = String(m).padStart(2, '0');
  const yy = String(y).slice(2);
  return [
    iso, `${dd}.${mm}.${y}`, `${d}.${m}.${y}`, `${dd}.${mm}.${yy}`, `${d}.${m}.${yy}`, `${dd}/${mm}/${y}`, `${mm}/${dd}/${y}`,
    `${d}. ${MONTHS_DE[m - 1]} ${y}`, `${d} ${MONTHS_DE[m - 1]} ${y}`, `${d}. ${MONTHS_DE[m - 1].slice(0, 3)} ${y}`, `${d} ${MONTHS_EN[m - 1]} ${y}`, `${MONTHS_EN[m - 1]} ${d}, ${y}`,
  ];
}

export class Pseudonymiser {
  readonly #tokens = new Map<string, string>(); // token → original
  readonly #byKey = new Map<string, string>(); // category + folded value → token
  readonly #counters = new Map<string, number>();
  readonly #nameRules: Rule[] = [];
  readonly #known: { category: IdentifierCategory; folded: string[]; digits?: string; res?: RegExp[] }[] = [];
  readonly #initials: RegExp[] = [];

  constructor(ids: KnownIdentifiers) {
    const names = new Set<string>();
    const addName = (n: string | undefined | null, capitalisedPartsOnly = false) => {
      if (!n) return;
      const t = n.trim();
      if (t.length < 2) return;
      names.add(t);
      for (const part of t.split(/[\s\-]+/)) {
        if (part.length < 2 || /^(dr|prof|med|dipl|von|van|de|der|den|zu)\.?$/i.test(part)) continue;
        // A user's display name may hold words that are not names ("Empfang", "staff"): only capitalised parts count alone.
        if (capitalisedPartsOnly && (part.length < 3 || !/^\p{Lu}/u.test(part))) continue;
        names.add(part);
      }
    };
    for (const n of [...ids.patientNames, ...(ids.relativeNames ?? [])]) addName(n);
    for (const n of ids.staffNames ?? []) addName(n, true);
    // Longest first: "Anna-Lena Müller" before "Anna" before … so one token covers the whole.
    for (const n of [...names].sort((a, b) => b.length - a.length)) {
      this.#nameRules.push({ category: 'name', re: new RegExp(`${WORD_BEFORE}(?:\\p{Lu}\\.[ \\t]*)?${namePattern(n)}${POSSESSIVE}${WORD_AFTER}`, 'giu'), key: lettersOnly(n) });
      this.#known.push({ category: 'name', folded: [foldExpanded(n), foldPlain(n)] });
    }
    // Initials of the patient ("M.M.", "M. M.", "MM" is too common to treat as a name).
    const given = ids.patientNames[0]?.trim()[0];
    const family = ids.patientNames[1]?.trim()[0];
    if (given && family) this.#initials.push(new RegExp(`${WORD_BEFORE}${escape(given)}\\.[ \\t]?${escape(family)}\\.`, 'gu'));
    if (ids.birthDate) this.#known.push({ category: 'birth_date', folded: dateSpellings(ids.birthDate).map(foldExpanded) });
    for (const p of ids.phones ?? []) {
      const digits = p.replace(/\D/g, '');
      // The number without country code or trunk prefix: what every spelling of it contains.
      const national = digits.startsWith('49') ? digits.slice(2) : digits.length > 10 ? digits.slice(-10) : digits;
      if (national.length >= 6) this.#known.push({ category: 'phone', folded: [], digits: national });
    }
    for (const e of ids.emails ?? []) this.#known.push({ category: 'email', folded: [e.toLowerCase()] });
    if (ids.address?.street) {
      const street = ids.address.street.replace(/\s*\d+\s*[a-z]?$/i, '').trim();
      if (street.length >= 3) {
        this.#nameRules.push({ category: 'address', re: new RegExp(`${WORD_BEFORE}${namePattern(street)}(?:[ \\t]*\\d+[ \\t]*[a-z]?)?${WORD_AFTER}`, 'giu') });
        this.#known.push({ category: 'address', folded: [foldExpanded(street), foldPlain(street)] });
      }
    }
    if (ids.address?.postalCode && ids.address.postalCode.replace(/\s/g, '').length >= 4) {
      const pc = ids.address.postalCode.replace(/\s/g, '');
      this.#nameRules.push({ category: 'address', re: new RegExp(`${NUM_BEFORE}${escape(pc)}${NUM_AFTER}`, 'gu') });
      this.#known.push({ category: 'address', folded: [pc.toLowerCase()] });
    }
    for (const [category, v] of [['insurance_number', ids.insuranceNumber], ['patient_number', ids.patientNumber]] as const) {
      if (!v || v.replace(/[\s-]/g, '').length < 3) continue;
      const compact = v.replace(/[\s-]/g, '');
      this.#nameRules.push({ category, re: new RegExp(`${NUM_BEFORE}${compact.split('').map(escape).join('[\\s\\-]?')}${NUM_AFTER}`, 'giu') });
      this.#known.push({ category, folded: [compact.toLowerCase()] });
    }
  }

  #token(category: IdentifierCategory, original: string): string {
    const key = `${category}\u0000${category === 'name' || category === 'address' ? foldPlain(original.replace(/['’´`]s?$|s'$/u, '')).replace(/[\s\-\u00AD]+/g, '') : original.replace(/\s+/g, ' ').toLowerCase()}`;
    let t = this.#byKey.get(key);
    if (!t) {
      const prefix = TOKEN_PREFIX[category];
      const n = (this.#counters.get(prefix) ?? 0) + 1;
      this.#counters.set(prefix, n);
      t = `[${prefix}_${n}]`;
      this.#byKey.set(key, t);
      this.#tokens.set(t, original);
    }
    return t;
  }

  /** Replaces every known identifier and identifier pattern in a free text with tokens. */
  scrub(text: string): string {
    let s = text.normalize('NFC');
    // Patterns whose parts could look like a name or a number of another kind go first.
    s = s.replace(/(?:\bmailto:)?[\p{L}\p{N}._%+\-]+(?:@|[ \t]*(?:\(at\)|\[at\])[ \t]*)[\p{L}\p{N}\-]+(?:(?:\.|[ \t]*(?:\(dot\)|\[dot\])[ \t]*)[\p{L}\p{N}\-]+)+/giu, (m) => this.#token('email', m));
    s = s.replace(/\b(?:https?:\/\/|www\.)[^\s<>"']+/giu, (m) => this.#token('url', m));
    s = s.replace(/\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){3,7}(?:[ ]?[A-Z0-9]{1,3})?\b/gu, (m) => this.#token('iban', m));
    for (const r of this.#nameRules) if (r.category !== 'name') s = s.replace(r.re, (m) => this.#token(r.category, m));
    // Dates: written out ("3. März 1961", "März 3, 1961"), numeric (03.03.1961, 3.3.61, 1961-03-03, 03/03/1961).
    s = s.replace(new RegExp(`${WORD_BEFORE}\\d{1,2}\\.?[ \\t]*${MONTH_WORDS}\\.?[ \\t]*(?:\\d{4}|'?\\d{2})?${WORD_AFTER}`, 'giu'), (m) => this.#token('date', m));
    s = s.replace(new RegExp(`${WORD_BEFORE}${MONTH_WORDS}\\.?[ \\t]+\\d{1,2},?[ \\t]+\\d{4}${WORD_AFTER}`, 'giu'), (m) => this.#token('date', m));
    s = s.replace(/(?<![\p{N}.])\d{1,2}[.\/]\s?\d{1,2}[.\/]\s?(?:\d{4}|\d{2})(?![\p{N}])/gu, (m) => this.#token('date', m));
    s = s.replace(/(?<!\p{N})\d{4}-\d{1,2}-\d{1,2}(?!\p{N})/gu, (m) => this.#token('date', m));
    // Phones: +49 …, 0049 …, (0)…, 0171/…, 030-…, with spaces, dashes, slashes, dots, brackets; 6+ digits.
    s = s.replace(/(?<![\p{L}\p{N}])(?:\+|00)?\(?\d[\d \t\-\/.()]{4,}\d(?!\p{N})/gu, (m) => {
      const digits = m.replace(/\D/g, '');
      return digits.length >= 6 && digits.length <= 16 ? this.#token('phone', m) : m;
    });
    for (const r of this.#initials) s = s.replace(r, (m) => this.#token('name', m));
    const letters = lettersOnly(s);
    for (const r of this.#nameRules) if (r.category === 'name' && (!r.key || letters.includes(r.key))) s = s.replace(r.re, (m) => this.#token('name', m));
    return s;
  }

  /** Turns tokens in the model's answer back into the original values (locally). */
  detokenise(text: string): string {
    return text.replace(/\[(?:NAME|DATE|PHONE|EMAIL|ADDRESS|ID|IBAN|URL)_\d+\]/g, (t) => this.#tokens.get(t) ?? t);
  }

  detokeniseDeep<T>(value: T): T {
    if (typeof value === 'string') return this.detokenise(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.detokeniseDeep(v)) as T;
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.detokeniseDeep(v)])) as T;
    return value;
  }

  get tokenCount(): number {
    return this.#tokens.size;
  }

  /**
   * The final gate: every string in what is about to be sent, searched for each known identifier
   * (normalised: case, umlaut spellings, line breaks and hyphens removed; phone numbers by their
   * digits). Answers the categories found (never the values); empty means it may go.
   */
  leakCheck(payload: unknown): IdentifierCategory[] {
    const strings: string[] = [];
    const walk = (v: unknown) => {
      if (typeof v === 'string') strings.push(v);
      else if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(payload);
    const text = strings.join('\n').normalize('NFC');
    const joined = text.replace(/[-\u2010\u2011]?[ \t]*\r?\n[ \t]*|\u00AD/g, '');
    const views = [foldExpanded(text), foldPlain(text), foldExpanded(joined), foldPlain(joined)];
    const digitRuns = (text.match(/[+\d][\d \t\-\/.()]*\d/g) ?? []).map((r) => r.replace(/\D/g, ''));
    const found = new Set<IdentifierCategory>();
    for (const k of this.#known) {
      if (k.digits) {
        if (digitRuns.some((d) => d.includes(k.digits!))) found.add(k.category);
        continue;
      }
      k.res ??= k.folded.filter(Boolean).map((f) => (/^\d/.test(f) ? new RegExp(`(?<![\\p{N}])${escape(f)}(?![\\p{N}])`, 'u')
        : new RegExp(`(?<![\\p{L}])${escape(f)}${k.category === 'name' ? 's?' : ''}(?![\\p{L}])`, 'u')));
      if (k.res.some((re) => views.some((v) => re.test(v)))) found.add(k.category);
    }
    for (const s of [text, joined]) {
      if (/[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+\.[\p{L}]{2,}/u.test(s)) found.add('email');
      if (/\b(?:https?:\/\/|www\.)\S+/iu.test(s)) found.add('url');
      if (/\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){3,7}/u.test(s)) found.add('iban');
    }
    return CATEGORIES.filter((c) => found.has(c));
  }
}
