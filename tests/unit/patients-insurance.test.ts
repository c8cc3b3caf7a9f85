// KVNR check digit and the cross-field rules of the German master data (issue 12, item 4).
import test from 'ava';
import { crossFieldIssues, isValidKvnr, kvnrCheckDigit } from '../../app/api/src/modules/patients/insurance.ts';
import { maybePatientNumber, numberTerm, termsFor } from '../../app/api/src/modules/patients/blind-index.ts';

test('the KVNR check digit follows the GKV algorithm (letter as 01–26, weights 1-2, digit sums, mod 10)', (t) => {
  // A = 01: 0·1 1·2 1·1 2·2 3·1 4·2 5·1 6·2→1+2 7·1 8·2→1+6 = 0+2+1+4+3+8+5+3+7+7 = 40 → 0
  t.is(kvnrCheckDigit('A12345678'), 0);
  t.true(isValidKvnr('A123456780'));
  t.true(isValidKvnr('a 123 456 780'), 'spaces and lower case are normalized');
  // Z = 26: 2·1 6·2→1+2 9·1 9·2→1+8 9·1 9·2→1+8 9·1 9·2→1+8 9·1 9·2→1+8 = 2+3+9+9+9+9+9+9+9+9 = 77 → 7
  t.is(kvnrCheckDigit('Z99999999'), 7);
  t.true(isValidKvnr('Z999999997'));
  for (const bad of ['A123456781', 'A12345678', 'A1234567800', '1123456780', 'ÄA23456780', 'A12345678X', '']) t.false(isValidKvnr(bad), bad);
  // Every wrong check digit is refused, exactly one is accepted.
  for (const base of ['M87654321', 'B00000001', 'X31415926']) {
    const ok = [...Array(10).keys()].filter((d) => isValidKvnr(`${base}${d}`));
    t.deepEqual(ok, [kvnrCheckDigit(base)], base);
  }
});

test('cross-field rules name the field to correct', (t) => {
  const fields = (m: Parameters<typeof crossFieldIssues>[0]) => crossFieldIssues(m).map((i) => `${i.field}:${i.code}`);
  t.deepEqual(fields({ insuranceType: 'statutory', insuranceNumber: 'A123456780' }), []);
  t.deepEqual(fields({ insuranceType: 'statutory', insuranceNumber: 'A123456781' }), ['insuranceNumber:invalid_kvnr']);
  t.deepEqual(fields({ insuranceType: 'private', insuranceNumber: 'PKV-123/45 A' }), []);
  t.deepEqual(fields({ insuranceType: 'private', insuranceNumber: 'PKV;drop' }), ['insuranceNumber:invalid_insurance_number']);
  t.deepEqual(fields({ insuranceNumber: 'A123456780' }), ['insuranceNumber:insurance_type_missing']);
  t.deepEqual(fields({ insuranceType: 'self_pay', insuranceNumber: 'X1', insurer: 'AOK' }), ['insuranceNumber:self_pay_number', 'insurer:self_pay_insurer']);
  t.deepEqual(fields({ preferredChannel: 'whatsapp' }), ['preferredChannel:channel_needs_whatsapp']);
  t.deepEqual(fields({ preferredChannel: 'email', email: 'a@example.org' }), []);
  t.deepEqual(fields({ preferredChannel: 'letter' }), ['preferredChannel:channel_needs_address']);
  t.deepEqual(fields({ preferredChannel: 'none' }), []);
});

test('the patient number is an exact blind-index term, case and spaces ignored', (t) => {
  t.deepEqual(numberTerm('p 0012'), { kind: 'number', value: 'P0012' });
  const base = { givenName: 'Anna', familyName: 'Weber', sex: 'female' as const, birthDate: '1980-01-01' };
  t.true(termsFor({ ...base, patientNumber: 'P0012' }).some((x) => x.kind === 'number' && x.value === 'P0012'));
  t.false(termsFor(base).some((x) => x.kind === 'number'));
  t.true(maybePatientNumber('12345'));
  t.true(maybePatientNumber('P-0012'));
  t.false(maybePatientNumber('Weber'), 'no digit');
  t.false(maybePatientNumber('17.05.1980'), 'a date');
  t.false(maybePatientNumber('Anna 12'), 'two words');
});

test('demo patients carry valid German master data (schema and cross-field rules)', async (t) => {
  const { demoMasterData } = await import('../../app/api/src/modules/patients/demo-data.service.ts');
  const { masterData } = await import('../../app/api/src/modules/patients/patient.schema.ts');
  for (let i = 0; i < 300; i++) {
    const parsed = masterData.safeParse(demoMasterData());
    t.true(parsed.success);
    if (parsed.success) t.deepEqual(crossFieldIssues(parsed.data), []);
  }
});
