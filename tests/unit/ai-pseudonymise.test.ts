// The pseudonymiser and the final leak check (app/api/src/modules/ai/pseudonymise.ts): every
// spelling of a known identifier becomes a token, the answer turns back into clear text, and the
// leak check names the category of anything left (never the value).
import test from 'ava';
import { Pseudonymiser, dateSpellings, foldExpanded, foldPlain } from '../../app/api/src/modules/ai/pseudonymise.ts';

const ids = {
  patientNames: ['Jürgen', 'Müller-Weiß'], relativeNames: ['Gisela Müller'], staffNames: ['Dr. Anna Schmidt', 'Empfang'],
  birthDate: '1961-03-03', phones: ['+491711234567'], emails: ['juergen.mueller@example.org'], address: { street: 'Hauptstraße 5', postalCode: '10115' },
  insuranceNumber: 'A123456789', patientNumber: 'P-000417',
};

test('folding: umlauts and ß in both directions', (t) => {
  t.is(foldExpanded('MÜLLER-Weiß'), 'mueller-weiss');
  t.is(foldPlain('Mueller'), foldPlain('Müller'));
  t.is(foldPlain('Muller'), foldPlain('Müller'));
  t.true(dateSpellings('1961-03-03').includes('3. märz 1961'));
});

const spellings = [
  'Jürgen Müller-Weiß', 'JUERGEN MUELLER-WEISS', 'jurgen muller-weis', 'Müllers Befund', "Müller's Frau", 'M. Müller', 'J.M. ruft an', 'Mül-\nler kommt',
  'Gisela sagt', 'Dr. Schmidt', 'Anna Schmidt', 'geb. 3. März 1961', 'am 03.03.1961', '3.3.61', '1961-03-03', 'Tel. 0171 / 123 45 67', '+49 (0)171 1234567',
  '0049-171-1234567', 'juergen.mueller@example.org', 'JUERGEN.MUELLER@EXAMPLE.ORG', 'max (at) example.org', 'Hauptstrasse 5', '10115 Berlin',
  'Versichertennr. A 123 456 789', 'Pat.-Nr. P-000417', 'IBAN DE89 3704 0044 0532 0130 00', 'siehe https://portal.example/akte/1', 'www.praxis.example/x',
];

for (const s of spellings) {
  test(`scrubbed: ${JSON.stringify(s)}`, (t) => {
    const p = new Pseudonymiser(ids);
    const out = p.scrub(s);
    t.regex(out, /\[(NAME|DATE|PHONE|EMAIL|ADDRESS|ID|IBAN|URL)_\d+\]/, out);
    t.deepEqual(p.leakCheck([out]), [], out);
  });
}

test('health content stays; the same value gets the same token; the answer is de-tokenised', (t) => {
  const p = new Pseudonymiser(ids);
  const out = p.scrub('Jürgen nimmt Marcumar 5 mg, RR 120/80. Jürgen raucht.');
  t.true(out.includes('Marcumar 5 mg, RR 120/80'));
  const tokens = out.match(/\[NAME_\d+\]/g)!;
  t.is(tokens.length, 2);
  t.is(tokens[0], tokens[1]);
  t.is(p.detokenise(`Rückfrage an ${tokens[0]}`), 'Rückfrage an Jürgen');
  t.deepEqual(p.detokeniseDeep({ a: [tokens[0]] }), { a: ['Jürgen'] });
});

test('a display-name word that is not a name ("Empfang") is scrubbed as a whole name only', (t) => {
  const p = new Pseudonymiser({ patientNames: ['Jürgen', 'Müller'], staffNames: ['Test staff'] });
  t.is(p.scrub('Bitte an das staff-Team'), 'Bitte an das staff-Team');
});

test('the leak check finds what scrubbing did not touch and names only the categories', (t) => {
  const p = new Pseudonymiser(ids);
  const found = p.leakCheck({ system: 'Notiz für Jürgen', messages: [{ content: 'geboren 03.03.1961, Tel 0171-1234567, juergen.mueller@example.org, Hauptstraße, IBAN DE89370400440532013000, https://x.example' }] });
  t.deepEqual(found, ['name', 'birth_date', 'phone', 'email', 'address', 'iban', 'url']);
  t.deepEqual(p.leakCheck({ messages: [{ content: 'Mül-\nler' }] }), ['name'], 'split across lines');
  t.deepEqual(p.leakCheck({ messages: [{ content: 'Haarausfall, Marcumar, Raucher' }] }), []);
});
