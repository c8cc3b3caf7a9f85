// The API's field messages are English (zod and the services' own wording). The well-known ones
// are shown in the user's language; anything else is shown as the server wrote it, so no
// server message is ever lost.
import { t } from './i18n/i18n.svelte.ts';

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
  [/E\.164 format/, () => t('validation.phone')],
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

export function localizeFieldMessage(message: string): string {
  // ">=1 characters" means "required"; check it before the general minimum-length rule.
  if (/^Too small: expected string to have >=1 characters$/i.test(message)) return t('validation.required');
  for (const [pattern, text] of RULES) {
    const match = message.match(pattern);
    if (match) return text(match);
  }
  return message;
}
