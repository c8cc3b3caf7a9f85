// Phone numbers as a German practice writes them: national ("0171 1234567", "030/1234567"),
// international ("+49 171 1234567", "0049 171 1234567", "+44 20 7946 0958"). Stored in E.164
// ("+491711234567") after libphonenumber-js checked the number against the numbering plan.
// The 'min' metadata (the same the web client formats with) checks the plan's lengths and
// prefixes without rejecting real numbers of ranges a stale type table does not know yet.
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';

/** National numbers (leading 0) are read in this country's plan. */
export const DEFAULT_PHONE_COUNTRY: CountryCode = 'DE';

/** The German plan allows very short numbers (service codes); no patient is reachable at one. */
const MIN_NATIONAL_DIGITS = 6;

/**
 * Digits, spaces and the usual separators only (no letters, no extensions), starting with "+",
 * "00" or the trunk prefix "0": a number without one is a local number missing its area code.
 */
const PHONE_CHARACTERS = /^\(?[+0][\d\s\-/().]{2,31}$/;

/** The E.164 form of a valid number, or undefined when it is not a dialable number. */
export function normalizePhone(input: string, country: CountryCode = DEFAULT_PHONE_COUNTRY): string | undefined {
  const s = input.trim();
  if (!PHONE_CHARACTERS.test(s)) return undefined;
  const parsed = parsePhoneNumberFromString(s, country);
  return parsed?.isValid() && parsed.nationalNumber.length >= MIN_NATIONAL_DIGITS ? parsed.number : undefined;
}
