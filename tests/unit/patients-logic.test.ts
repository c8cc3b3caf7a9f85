// Pure logic of the patient modules: blind-index terms, questionnaire validation and rules,
// ICD-10-GM codes, metadata stripping, multipart parsing, retention dates, demo key wrapping.
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { MAX_PREFIX, matchesTerms, nameTokens, parseSearch, phoneDigits, termsFor } from '../../app/api/src/modules/patients/blind-index.ts';
import { masterData } from '../../app/api/src/modules/patients/patient.schema.ts';
import { DEFAULT_ANAMNESIS } from '../../app/api/src/modules/records/questionnaire.schema.ts';
import { prequalify, validateAnswers } from '../../app/api/src/modules/records/questionnaire.evaluate.ts';
import { ICD10_GM } from '../../app/api/src/modules/records/record.schema.ts';
import { stripWebp } from '../../app/api/src/modules/documents/metadata-strip.ts';
import { detectType } from '../../app/api/src/modules/documents/file-type.ts';
import { parseMultipart } from '../../app/api/src/modules/documents/multipart.ts';
import { retentionEndsOn, withinRetention } from '../../app/api/src/modules/retention/retention.policy.ts';
import { dataKeyAad, newKey, open, seal } from '../../app/api/src/modules/keystore/keystore.crypto.ts';
import { demoMasterData } from '../../app/api/src/modules/patients/demo-data.service.ts';

test('name tokens fold umlauts both ways and split double names', (t) => {
  t.deepEqual(nameTokens('Jörg Müller-Lüdenscheidt').sort(), ['joerg', 'jorg', 'ludenscheidt', 'luedenscheidt', 'mueller', 'muller'].sort());
  t.deepEqual(nameTokens('Straße'), ['strasse']);
  t.deepEqual(nameTokens('Çelik'), ['celik']);
});

test('search text is read as phone, e-mail, dates and name prefixes', (t) => {
  t.deepEqual(parseSearch('0171 1234567'), [{ kind: 'phone', value: '491711234567' }]);
  t.deepEqual(parseSearch('+44 20 7946 0000'), [{ kind: 'phone', value: '442079460000' }]);
  t.deepEqual(parseSearch('A@B.de'), [{ kind: 'email', value: 'a@b.de' }]);
  t.deepEqual(parseSearch('Schm 1.2.1980'), [{ kind: 'prefix', value: 'schm', full: 'schm' }, { kind: 'dob', value: '1980-02-01' }]);
  t.deepEqual(parseSearch('ab'), { error: 'name parts must have at least 3 letters' });
  const long = parseSearch('Schmidtbergerhausen') as { value: string; full?: string }[];
  t.is(long[0].value.length, MAX_PREFIX);
  t.is(long[0].full, 'schmidtbergerhausen');
  t.is(phoneDigits('12'), undefined);
});

test('post-filtering removes prefix collisions beyond twelve letters', (t) => {
  const m = masterData.parse({ givenName: 'Eva', familyName: 'Schmidtbergerhausen', sex: 'female', birthDate: '1980-01-01' });
  t.true(matchesTerms(m, parseSearch('schmidtbergerh') as never));
  t.false(matchesTerms(m, parseSearch('schmidtbergerx') as never));
  t.true(termsFor(m).some((x) => x.kind === 'dob'));
});

test('answers: unknown, mistyped, hidden and missing fields are named; rules give a status', (t) => {
  const def = DEFAULT_ANAMNESIS.definition;
  t.deepEqual(validateAnswers(def, { smoker: false, blood_thinners: false, hair_status: 'norwood_3' }, 'a'), []);
  const issues = validateAnswers(def, { smoker: 'no', blood_thinners: false, blood_thinner_name: 'x', shoe: 1 }, 'anamnesis v1');
  t.deepEqual(issues.map((i) => i.field).sort(), ['body.answers.blood_thinner_name', 'body.answers.hair_status', 'body.answers.shoe', 'body.answers.smoker']);
  t.is(prequalify(def, { smoker: false, blood_thinners: false, hair_status: 'norwood_3' }, 30).status, 'qualified');
  t.is(prequalify(def, { smoker: false, blood_thinners: true, hair_status: 'norwood_3' }, 30).status, 'needs_review');
  const minor = prequalify(def, { smoker: true, cigarettes_per_day: 25, blood_thinners: false, hair_status: 'norwood_3' }, 17);
  t.is(minor.status, 'not_qualified');
  t.deepEqual(minor.reasons.map((r) => r.rule), ['minor', 'heavy_smoker']);
});

test('ICD-10-GM code format', (t) => {
  for (const ok of ['L64.9', 'L64', 'E11.90', 'G63.2*', 'A52.1†', 'U07.1', 'Z92.2!']) t.regex(ok, ICD10_GM, ok);
  for (const bad of ['l64', 'L6', 'L64.999', '64.9', 'LL4.9']) t.notRegex(bad, ICD10_GM, bad);
});

test('WebP loses EXIF and XMP chunks and their header flags; types come from magic bytes', (t) => {
  const chunk = (type: string, data: Buffer) => {
    const h = Buffer.alloc(8);
    h.write(type, 0, 'latin1');
    h.writeUInt32LE(data.length, 4);
    return Buffer.concat([h, data, data.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
  };
  const body = Buffer.concat([chunk('VP8X', Buffer.from([0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0])), chunk('VP8L', Buffer.from('pixels!')), chunk('EXIF', Buffer.from('GPS-SECRET')), chunk('XMP ', Buffer.from('<x>GPS-SECRET</x>'))]);
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(body.length + 4, 4);
  header.write('WEBP', 8, 'latin1');
  const out = stripWebp(Buffer.concat([header, body]));
  t.deepEqual(out.removed.sort(), ['EXIF', 'XMP']);
  t.false(out.data.toString('latin1').includes('GPS-SECRET'));
  t.is(out.data.readUInt32LE(4), out.data.length - 8);
  t.is(out.data[20] & 0x0c, 0);
  t.is(detectType(out.data), 'image/webp');
  t.is(detectType(Buffer.from('%PDF-1.7')), 'application/pdf');
  t.is(detectType(Buffer.from('MZ')), undefined);
});

test('multipart: parts are read; a body without its closing boundary is rejected', (t) => {
  const body = Buffer.from('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="x.jpg"\r\n\r\n\xff\xd8\r\n--b--\r\n', 'latin1');
  const parts = parseMultipart(body, 'b');
  t.deepEqual(parts.map((p) => [p.name, p.filename, p.data.length]), [['a', undefined, 1], ['file', 'x.jpg', 2]]);
  t.throws(() => parseMultipart(body.subarray(0, body.length - 8), 'b'), { message: /truncated/ });
});

test('retention ends the configured years after the last treatment; no treatment, no retention', (t) => {
  t.is(retentionEndsOn('2015-06-30', 10), '2025-06-30');
  t.is(retentionEndsOn('2016-02-29', 10), '2026-02-28');
  t.is(retentionEndsOn(null, 10), null);
  t.true(withinRetention('2020-01-01', '2029-12-31', 10));
  t.false(withinRetention('2020-01-01', '2030-01-01', 10));
});

test('demo data keys are wrapped as the key store wraps them, and demo patients pass validation', (t) => {
  const master = newKey();
  const org = randomUUID();
  const id = randomUUID();
  const key = newKey();
  const wrapped = seal(master, key, dataKeyAad(org, 'patient', id));
  t.true(open(master, wrapped, dataKeyAad(org, 'patient', id)).equals(key));
  for (let i = 0; i < 200; i++) t.true(masterData.safeParse(demoMasterData()).success);
});
