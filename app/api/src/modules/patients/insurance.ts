// German practice master data (issue 12, item 4): the statutory health insurance number (KVNR,
// "Krankenversichertennummer", unveränderbarer Teil: one capital letter + 9 digits, the last a
// check digit), and the cross-field rules between insurance type, number and contact channel.
// Pure functions: the API validates with them and the web client shows the same verdict early.

export const INSURANCE_TYPES = ['statutory', 'private', 'self_pay'] as const;
export type InsuranceType = (typeof INSURANCE_TYPES)[number];
export const CONTACT_CHANNELS = ['whatsapp', 'email', 'phone', 'letter', 'none'] as const;
export type ContactChannel = (typeof CONTACT_CHANNELS)[number];
export const SALUTATIONS = ['mr', 'ms', 'neutral'] as const;

/** Private insurers' numbers have no common format: letters, digits and . / - space, 1–30 characters. */
export const PRIVATE_NUMBER = /^[A-Za-z0-9][A-Za-z0-9 ./-]{0,29}$/;
/** The practice's own patient number: letters, digits, . / -, 1–20 characters. */
export const PATIENT_NUMBER = /^[A-Za-z0-9][A-Za-z0-9./-]{0,19}$/;

/**
 * The KVNR check digit (GKV-Spitzenverband, "Richtlinien … Krankenversichertennummer" § 3):
 * the letter becomes its two-digit position in the alphabet (A = 01 … Z = 26), giving with the
 * next eight digits ten digits; these are weighted 1, 2, 1, 2, …; of each product the digit sum
 * is taken; the sum of those, modulo 10, is the check digit (the tenth character).
 */
export function kvnrCheckDigit(first9: string): number | undefined {
  const m = /^([A-Z])(\d{8})$/.exec(first9);
  if (!m) return undefined;
  const letter = String(m[1].charCodeAt(0) - 64).padStart(2, '0');
  const digits = (letter + m[2]).split('').map(Number);
  let sum = 0;
  digits.forEach((d, i) => {
    const p = d * (i % 2 === 0 ? 1 : 2);
    sum += p > 9 ? p - 9 : p;
  });
  return sum % 10;
}

/** Normalized KVNR ("a 123 456 780" → "A123456780"). */
export const normalizeKvnr = (s: string): string => s.replace(/\s+/g, '').toUpperCase();

export function isValidKvnr(input: string): boolean {
  const s = normalizeKvnr(input);
  if (!/^[A-Z]\d{9}$/.test(s)) return false;
  return kvnrCheckDigit(s.slice(0, 9)) === Number(s[9]);
}

export interface MasterDataIssue { field: string; code: string; message: string }

interface Checked {
  insuranceType?: InsuranceType;
  insurer?: string;
  insuranceNumber?: string;
  preferredChannel?: ContactChannel;
  phone?: string;
  whatsapp?: string;
  email?: string;
  address?: unknown;
}

/** Rules across fields; each issue names the field to correct. */
export function crossFieldIssues(m: Checked): MasterDataIssue[] {
  const out: MasterDataIssue[] = [];
  if (m.insuranceNumber !== undefined) {
    if (!m.insuranceType) out.push({ field: 'insuranceNumber', code: 'insurance_type_missing', message: 'needs an insurance type (statutory or private)' });
    else if (m.insuranceType === 'self_pay') out.push({ field: 'insuranceNumber', code: 'self_pay_number', message: 'a self-paying patient has no insurance number' });
    else if (m.insuranceType === 'statutory' && !isValidKvnr(m.insuranceNumber)) {
      out.push({ field: 'insuranceNumber', code: 'invalid_kvnr', message: 'must be a statutory insurance number (KVNR): one letter and 9 digits with a valid check digit' });
    } else if (m.insuranceType === 'private' && !PRIVATE_NUMBER.test(m.insuranceNumber)) {
      out.push({ field: 'insuranceNumber', code: 'invalid_insurance_number', message: 'may contain letters, digits, spaces and . / - (at most 30)' });
    }
  }
  if (m.insurer !== undefined && m.insuranceType === 'self_pay') out.push({ field: 'insurer', code: 'self_pay_insurer', message: 'a self-paying patient has no insurer' });
  const need: Partial<Record<ContactChannel, [keyof Checked, string]>> = {
    whatsapp: ['whatsapp', 'needs a WhatsApp number'], email: ['email', 'needs an e-mail address'],
    phone: ['phone', 'needs a phone number'], letter: ['address', 'needs a postal address'],
  };
  const req = m.preferredChannel && need[m.preferredChannel];
  if (req && m[req[0]] === undefined) out.push({ field: 'preferredChannel', code: `channel_needs_${req[0]}`, message: req[1] });
  return out;
}
