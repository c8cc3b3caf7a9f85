// Dates typed in the UI language's order (independent of the browser) and phone numbers in
// German national or international notation become exactly one stored value, or are refused.
import test from 'ava';
import { dateInWords, formatDate, parseDate } from '../../app/web/src/lib/dates.ts';
import { formatPhone, formatPhoneInput, samePhone } from '../../app/web/src/lib/phone.ts';
import { normalizePhone } from '../../app/api/src/modules/patients/phone.ts';

test('German dates are read day first: 17.05.1980 is 17 May, never 5 December', (t) => {
  t.deepEqual(parseDate('17.05.1980', 'de'), { ok: true, iso: '1980-05-17' });
  t.deepEqual(parseDate('7.5.1980', 'de'), { ok: true, iso: '1980-05-07' });
  t.deepEqual(parseDate(' 01. 12. 1980 ', 'de'), { ok: true, iso: '1980-12-01' });
  t.deepEqual(parseDate('1980-05-17', 'de'), { ok: true, iso: '1980-05-17' });
});

test('English dates are also day first (DD/MM/YYYY), so the two languages never disagree', (t) => {
  t.deepEqual(parseDate('17/05/1980', 'en'), { ok: true, iso: '1980-05-17' });
  t.deepEqual(parseDate('05/12/1980', 'en'), { ok: true, iso: '1980-12-05' });
  t.deepEqual(parseDate('17.05.1980', 'en'), { ok: true, iso: '1980-05-17' });
  t.deepEqual(parseDate('1980-05-17', 'en'), { ok: true, iso: '1980-05-17' });
});

test('impossible, ambiguous or incomplete dates are refused instead of guessed', (t) => {
  t.deepEqual(parseDate('31.02.1980', 'de'), { ok: false, reason: 'calendar' });
  t.deepEqual(parseDate('17.13.1980', 'de'), { ok: false, reason: 'calendar' });
  t.deepEqual(parseDate('00.05.1980', 'de'), { ok: false, reason: 'calendar' });
  t.deepEqual(parseDate('17.05.80', 'de'), { ok: false, reason: 'format' });
  t.deepEqual(parseDate('05/17/1980', 'en'), { ok: false, reason: 'calendar' });
  t.deepEqual(parseDate('17/05/1980', 'de'), { ok: false, reason: 'format' });
  t.deepEqual(parseDate('Mai 1980', 'de'), { ok: false, reason: 'format' });
  t.deepEqual(parseDate('', 'de'), { ok: false, reason: 'empty' });
  t.deepEqual(parseDate('29.02.1981', 'de'), { ok: false, reason: 'calendar' });
  t.deepEqual(parseDate('29.02.1980', 'de'), { ok: true, iso: '1980-02-29' });
});

test('dates are shown in the UI language, in digits and in words', (t) => {
  t.is(formatDate('1980-05-17', 'de'), '17.05.1980');
  t.is(formatDate('1980-05-17', 'en'), '17/05/1980');
  t.is(dateInWords('1980-05-17', 'de'), '17. Mai 1980');
  t.is(dateInWords('1980-05-17', 'en'), '17 May 1980');
  t.is(dateInWords('1980-01-01', 'de'), '1. Januar 1980', 'no time zone shifts New Year to 31 December');
});

test('German national and international phone notations are normalised to E.164', (t) => {
  const cases: [string, string][] = [
    ['0171 1234567', '+491711234567'],
    ['030/1234567', '+49301234567'],
    ['(030) 123 456 78', '+493012345678'],
    ['+49 171 1234567', '+491711234567'],
    ['0049 171 1234567', '+491711234567'],
    ['0049 (171) 123-4567', '+491711234567'],
    ['+44 20 7946 0958', '+442079460958'],
    ['+1 202 555 0142', '+12025550142'],
  ];
  for (const [input, e164] of cases) t.is(normalizePhone(input), e164, input);
});

test('numbers that cannot be dialled are refused', (t) => {
  for (const input of ['0171 12', '030 12', '+12', '+49 abc', 'call 0171 1234567', '1234567', '0', '0171 1234567 ext 5', '+49 171 1234567'.repeat(3)]) {
    t.is(normalizePhone(input), undefined, input);
  }
});

test('stored numbers are displayed grouped', (t) => {
  t.is(formatPhone('+491711234567'), '+49 171 1234567');
  t.is(formatPhone('+49301234567'), '+49 30 1234567');
  t.is(formatPhone(''), '');
});

test('a typed number is grouped the way it was understood, and the grouped form counts as unchanged', (t) => {
  t.is(formatPhoneInput('0171 1234567'), '+49 171 1234567');
  t.is(formatPhoneInput('0044 20 7946 0958'), '+44 20 7946 0958');
  t.is(formatPhoneInput('12 34'), '12 34', 'what is not a number stays as typed');
  t.true(samePhone('+491711234567', '+49 171 1234567'));
  t.true(samePhone('+491711234567', '0171 123 45 67'));
  t.false(samePhone('+491711234567', '+491711234568'));
});
