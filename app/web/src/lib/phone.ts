// Phone numbers are stored in E.164 (the API normalises and validates them); people read them
// grouped: "+49 171 1234567". The API's own normaliser (pure, libphonenumber-js 'min' metadata)
// runs here too, so the UI groups exactly the numbers the server will accept.
import { parsePhoneNumberFromString } from 'libphonenumber-js/min';
import { normalizePhone } from '../../../api/src/modules/patients/phone.ts';

/** A stored number for display; anything unparsable is shown as stored. */
export function formatPhone(value: string | null | undefined): string {
  if (!value) return '';
  return parsePhoneNumberFromString(value)?.formatInternational() ?? value;
}

/** What the user typed, grouped the way it was understood ("0171 1234567" → "+49 171 1234567"); unchanged if not a number. */
export function formatPhoneInput(value: string): string {
  const e164 = normalizePhone(value);
  return e164 ? formatPhone(e164) : value;
}

/** Whether two notations are the same number ("+491711234567" and "0171 123 45 67"). */
export function samePhone(a: string | null | undefined, b: string | null | undefined): boolean {
  const e164 = (v: string | null | undefined) => (v ? (normalizePhone(v) ?? v.trim()) : '');
  return e164(a) === e164(b);
}
