// Phone numbers are stored in E.164 (the API normalises them); people read them grouped:
// "+49 171 1234567". The same libphonenumber-js metadata as the API's validation.
import { parsePhoneNumberFromString } from 'libphonenumber-js/min';

/** A stored number for display; anything unparsable is shown as stored. */
export function formatPhone(value: string | null | undefined): string {
  if (!value) return '';
  return parsePhoneNumberFromString(value)?.formatInternational() ?? value;
}
