// The editor's hidden keys (app/web/src/lib/questionnaire-edit.ts): generated from labels, renamed
// with every reference while unpublished, fixed once published (answers to a version use them);
// the definition sent to the API leaves out empty parts. docs/questionnaires.md "Keys".
import test from 'ava';
import { cleaned, publishedKeys, rekey, rekeyOption } from '../../app/web/src/lib/questionnaire-edit.ts';
import { keyFromLabel } from '../../app/web/src/lib/questionnaire-keys.ts';
import { definitionSchema } from '../../app/api/src/modules/records/questionnaire.schema.ts';
import type { components } from '../../app/web/src/lib/api.generated.ts';

type Definition = components['schemas']['Questionnaire']['definition'];

test('keys from labels: German spellings folded, unique, always a letter first', (t) => {
  t.is(keyFromLabel('Stürze im letzten Jahr?', new Set()), 'stuerze_im_letzten_jahr');
  t.is(keyFromLabel('Größe', new Set(['groesse'])), 'groesse_2');
  t.is(keyFromLabel('3 m gehen', new Set()), 'q_3_m_gehen');
  t.is(keyFromLabel('', new Set(), 'o'), 'o');
  t.is(keyFromLabel('Café crème', new Set()), 'cafe_creme');
  t.regex(keyFromLabel('x'.repeat(300), new Set()), /^[a-z][a-z0-9_]{0,62}$/);
});

const sample = (): Definition => ({
  sections: [{ key: 's1', label: { de: 'Abschnitt' }, showIf: { field: 'q1', op: 'eq', value: true } }],
  fields: [
    { key: 'q1', type: 'boolean', label: { de: '' } },
    { key: 'q2', type: 'choice', label: { de: 'Wie oft?' }, section: 's1', choices: [{ key: 'o1', label: { de: '' }, points: 1 }], showIf: { field: 'q1', op: 'eq', value: true } },
  ],
  scores: [{ key: 'score1', label: { de: 'Summe' }, kind: 'sum', fields: ['q2'] }],
  rules: [{ id: 'rule1', all: [{ field: 'q1', op: 'eq', value: true }, { field: 'q2', op: 'eq', value: 'o1' }], outcome: 'needs_review', reason: { de: 'x' } }],
}) as Definition;

test('renaming an unpublished question carries every reference: conditions, sections, scores, rules', (t) => {
  const d = sample();
  d.fields[0].label.de = 'Gestürzt?';
  rekey(d, d.fields[0], new Set(), 'q');
  t.is(d.fields[0].key, 'gestuerzt');
  t.is(d.fields[1].showIf!.field, 'gestuerzt');
  t.is(d.sections![0].showIf!.field, 'gestuerzt');
  t.is(d.rules[0].all[0].field, 'gestuerzt');
  const f = d.fields[1];
  f.choices![0].label.de = 'Einmal';
  rekeyOption(d, f, f.choices![0], new Set());
  t.is(f.choices![0].key, 'einmal');
  t.is(d.rules[0].all[1].value, 'einmal', 'a rule comparing with the option follows');
  rekey(d, f, new Set(), 'q');
  t.is(f.key, 'wie_oft');
  t.deepEqual(d.scores![0].fields, ['wie_oft']);
  t.is(d.rules[0].all[1].field, 'wie_oft');
});

test('a published key never changes, whatever the label says', (t) => {
  const d = sample();
  const fixed = publishedKeys(sample());
  t.true(fixed.has('q1') && fixed.has('q2.o1') && fixed.has('score1'));
  d.fields[0].label.de = 'Ganz neuer Text';
  rekey(d, d.fields[0], fixed, 'q');
  t.is(d.fields[0].key, 'q1');
  d.fields[1].choices![0].label.de = 'Anders';
  rekeyOption(d, d.fields[1], d.fields[1].choices![0], fixed);
  t.is(d.fields[1].choices![0].key, 'o1');
});

test('what the editor sends is a valid definition without empty parts', (t) => {
  const d = sample();
  d.fields[0].label = { de: 'Gestürzt?', en: '  ' };
  d.fields[1].choices![0].label.de = 'Einmal';
  (d.fields[0] as { unit?: unknown }).unit = { de: '' };
  (d.fields[0] as { choices?: unknown }).choices = [{ key: 'x', label: { de: 'x' } }];
  d.scores![0].bands = [];
  const out = cleaned(d);
  t.deepEqual(out.fields[0], { key: 'q1', type: 'boolean', label: { de: 'Gestürzt?' } });
  t.false('bands' in out.scores![0]);
  const parsed = definitionSchema.safeParse(out);
  t.true(parsed.success, JSON.stringify(parsed.error?.issues));
});
