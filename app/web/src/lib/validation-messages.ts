// A field problem from the API, in the user's language. Every field issue carries a code
// (details[].code): a specific code has its own text; the generic codes ('invalid', 'invalid_value')
// of the services' own checks are recognised by their well-known English wording; anything else
// gets the generic text of its code family. The server's raw English text is never shown.
import type { FieldError } from './api.ts';
import { i18n, t } from './i18n/i18n.svelte.ts';

type Rule = [RegExp, (m: RegExpMatchArray) => string];

const RULES: Rule[] = [
  [/^(is required|Required|Invalid input: expected string, received undefined)$/i, () => t('validation.required')],
  [/(?:at least|>=)\s*(\d+) characters?/i, (m) => t('validation.minLength', { n: m[1] })],
  [/(?:at most|<=)\s*(\d+) characters?/i, (m) => t('validation.maxLength', { n: m[1] })],
  [/^Invalid email/i, () => t('validation.email')],
  [/six digits/i, () => t('validation.sixDigits')],
  [/does not match the authenticator secret/i, () => t('validation.totpMismatch')],
  [/is already taken/i, () => t('validation.taken')],
  [/^is wrong$/i, () => t('validation.wrong')],
  [/^3–64 letters, digits, dot, dash or underscore$/, () => t('validation.username')],
  [/^lowercase letters, digits and dashes/, () => t('validation.slug')],
  [/must differ from the administrator password/, () => t('validation.passphraseDiffers')],
  [/^at least one role$/, () => t('validation.oneRole')],
  [/^must be a valid e-mail address$/, () => t('validation.email')],
  [/E\.164 format|^must be a phone number/, () => t('validation.phone')],
  [/^must be a real calendar date/, () => t('validation.date')],
  [/^must not be in the future$/, () => t('validation.future')],
  [/^gives an age over/, () => t('validation.tooOld')],
  [/^must be an ICD-10-GM code/, () => t('validation.icd')],
  [/^must contain a letter$/, () => t('validation.letter')],
  [/^must be an ISO 3166 country code/, () => t('validation.countryCode')],
  [/^must be a language code/, () => t('validation.languageCode')],
  [/^must be 3–10 letters or digits$/, () => t('validation.postalCode')],
  [/^is required when correcting an entry$/, () => t('validation.correctionReason')],
];

function byMessage(message: string): string | undefined {
  // ">=1 characters" means "required"; check it before the general minimum-length rule.
  if (/^Too small: expected string to have >=1 characters$/i.test(message)) return t('validation.required');
  for (const [pattern, text] of RULES) {
    const match = message.match(pattern);
    if (match) return text(match);
  }
  return undefined;
}

/** Codes whose text already exists under an older key. */
function byCode(code: string, limit: number | undefined): string | undefined {
  const n = limit ?? '';
  switch (code) {
    case 'required': return t('validation.required');
    case 'too_short': return t('validation.minLength', { n });
    case 'too_long': return t('validation.maxLength', { n });
    case 'too_small': return limit === undefined ? t('validation.code.size') : t('validation.code.too_small', { n });
    case 'too_large': return limit === undefined ? t('validation.code.size') : t('validation.code.too_large', { n });
    case 'too_few': return limit === undefined ? t('validation.code.size') : t('validation.code.too_few', { n });
    case 'too_many': return limit === undefined ? t('validation.code.size') : t('validation.code.too_many', { n });
    case 'email': return t('validation.email');
    case 'invalid_phone': return t('validation.phone');
    case 'invalid_date': return t('validation.date');
    case 'future_date': return t('validation.future');
    case 'implausible_age': return t('validation.tooOld');
    case 'taken': return t('validation.taken');
    case 'invalid': case 'invalid_value': return undefined;
    default: return i18n.lookup(`validation.code.${code}`);
  }
}

/** The generic text of a code family, when neither the code nor the wording is known. */
function byFamily(code: string | undefined): string {
  if (code?.startsWith('too_')) return t('validation.code.size');
  if (code?.endsWith('_date')) return t('validation.date');
  if (code?.endsWith('_format')) return t('validation.code.invalid_format');
  return t('validation.code.invalid');
}

export function localizeFieldIssue(issue: Pick<FieldError, 'message' | 'code' | 'limit'>): string {
  return (issue.code ? byCode(issue.code, issue.limit) : undefined) ?? byMessage(issue.message) ?? byFamily(issue.code);
}
