// Keyed blind indexes: the database stores HMAC-SHA-256 (truncated to 128 bits) of normalized
// name tokens, name prefixes (3–12 characters), the birth date, phone digits and the e-mail,
// never the values. The key is a per-organization key from the key store (wrapped by the master
// key), so a dump without the passphrase cannot test guesses. What still leaks: equality (two
// patients with the same surname share a token) and hence frequencies. See docs/patients.md.
import { createHmac } from 'node:crypto';
import type { MasterData } from './patient.schema.ts';

export type IndexKind = 'prefix' | 'name' | 'dob' | 'phone' | 'email' | 'number';
export interface IndexTerm {
  kind: IndexKind;
  value: string;
  /** The whole search word when value is its 12-letter prefix (checked after decryption). */
  full?: string;
}

export const MIN_PREFIX = 3;
export const MAX_PREFIX = 12;
const DEFAULT_COUNTRY_CODE = '49';

/**
 * Both German spellings: "Müller" gives "mueller" and "muller", so "Mueller", "Müller" and
 * "Muller" all find it. "Müller-Lüdenscheidt" is two tokens.
 */
export function nameTokens(text: string): string[] {
  const lower = text.toLowerCase();
  const strip = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').replace(/ß/g, 'ss');
  const expanded = strip(lower.replace(/ä/g, 'ae').replace(/ö/g, 'oe').replace(/ü/g, 'ue'));
  const split = (s: string) => s.split(/[^\p{L}\p{N}]+/u).filter((t) => t.length > 0);
  return [...new Set([...split(expanded), ...split(strip(lower))])];
}

export function prefixesOf(token: string): string[] {
  const out: string[] = [];
  for (let n = MIN_PREFIX; n <= Math.min(token.length, MAX_PREFIX); n++) out.push(token.slice(0, n));
  return out;
}

/** Digits of a number in international form; "0171 …" is read as a German number. */
export function phoneDigits(input: string): string | undefined {
  let s = input.replace(/[\s\-/().]/g, '');
  if (s.startsWith('+')) s = s.slice(1);
  else if (s.startsWith('00')) s = s.slice(2);
  else if (s.startsWith('0')) s = DEFAULT_COUNTRY_CODE + s.slice(1);
  return /^\d{7,15}$/.test(s) ? s : undefined;
}

/** The terms a patient is findable by. */
export function termsFor(m: MasterData): IndexTerm[] {
  const terms: IndexTerm[] = [];
  for (const t of nameTokens(`${m.givenName} ${m.familyName}`)) {
    terms.push({ kind: 'name', value: t });
    for (const p of prefixesOf(t)) terms.push({ kind: 'prefix', value: p });
  }
  terms.push({ kind: 'dob', value: m.birthDate });
  for (const p of [m.phone, m.whatsapp]) {
    const d = p && phoneDigits(p);
    if (d) terms.push({ kind: 'phone', value: d });
  }
  if (m.email) terms.push({ kind: 'email', value: m.email.toLowerCase() });
  if (m.patientNumber) terms.push(numberTerm(m.patientNumber));
  return dedupe(terms);
}

function dedupe(terms: IndexTerm[]): IndexTerm[] {
  const seen = new Set<string>();
  return terms.filter((t) => (seen.has(`${t.kind}:${t.value}`) ? false : (seen.add(`${t.kind}:${t.value}`), true)));
}

/** The practice's own patient number: exact match only, case and spaces ignored ("p 0012" = "P0012"). */
export const normalizePatientNumber = (s: string): string => s.replace(/\s+/g, '').toUpperCase();
export const numberTerm = (s: string): IndexTerm => ({ kind: 'number', value: normalizePatientNumber(s) });

/** A search text that may be a patient number: one word with a digit, no date. */
export function maybePatientNumber(q: string): boolean {
  const text = q.trim();
  return /^[A-Za-z0-9][A-Za-z0-9./-]{0,19}$/.test(text) && /\d/.test(text) && !DATE_DE.test(text) && !DATE_ISO.test(text);
}

const DATE_DE = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/;
const DATE_ISO = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Reads a free search text: a whole phone number, an e-mail, or words that are each a date
 * (17.05.1980 or 1980-05-17) or a name part of at least three letters (matched as a prefix).
 */
export function parseSearch(q: string): IndexTerm[] | { error: string } {
  const text = q.trim();
  if (/^[+0-9][0-9\s\-/()]{5,}$/.test(text) && !DATE_DE.test(text) && !DATE_ISO.test(text)) {
    const d = phoneDigits(text);
    return d ? [{ kind: 'phone', value: d }] : { error: 'looks like a phone number but is not one' };
  }
  if (text.includes('@')) return [{ kind: 'email', value: text.toLowerCase() }];
  const terms: IndexTerm[] = [];
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const de = DATE_DE.exec(word);
    if (de) terms.push({ kind: 'dob', value: `${de[3]}-${de[2].padStart(2, '0')}-${de[1].padStart(2, '0')}` });
    else if (DATE_ISO.test(word)) terms.push({ kind: 'dob', value: word });
    else {
      for (const t of nameTokens(word)) {
        if (t.length < MIN_PREFIX) return { error: 'name parts must have at least 3 letters' };
        terms.push({ kind: 'prefix', value: t.slice(0, MAX_PREFIX), full: t });
      }
    }
  }
  return dedupe(terms);
}

export function blindToken(key: Buffer, term: IndexTerm): Buffer {
  return createHmac('sha256', key).update(`${term.kind}\u0000${term.value}`, 'utf8').digest().subarray(0, 16);
}

/** After decrypting a candidate: does it really match (prefixes over 12 letters, collisions)? */
export function matchesTerms(m: MasterData, terms: IndexTerm[]): boolean {
  const all = termsFor(m);
  const tokens = nameTokens(`${m.givenName} ${m.familyName}`);
  return terms.every((t) =>
    t.kind === 'prefix' ? tokens.some((tok) => tok.startsWith(t.full ?? t.value)) : all.some((a) => a.kind === t.kind && a.value === t.value),
  );
}
