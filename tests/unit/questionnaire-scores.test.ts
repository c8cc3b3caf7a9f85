// Score computation, conditions and definition checks of questionnaires (docs/questionnaires.md).
import test from 'ava';
import { computeScores, prequalify, validateAnswers, visibility } from '../../app/api/src/modules/records/questionnaire.evaluate.ts';
import { definitionSchema, draftDefinitionSchema, type Definition } from '../../app/api/src/modules/records/questionnaire.schema.ts';
import { LEGACY_ANAMNESIS, TEMPLATES, templateById } from '../../app/api/src/modules/records/questionnaire.templates.ts';

const barthel = templateById('barthel')!.definition;
const tug = templateById('timed_up_and_go')!.definition;
const hair = templateById('hair_clinic')!.definition;
const l = (de: string) => ({ de });

const allBarthel = (pick: 'first' | 'last') =>
  Object.fromEntries(barthel.fields.map((f) => [f.key, pick === 'first' ? f.choices![0].key : f.choices!.at(-1)!.key]));

test('every shipped template is a valid definition', (t) => {
  for (const x of TEMPLATES) t.true(definitionSchema.safeParse(x.definition).success, x.id);
  t.true(definitionSchema.safeParse(LEGACY_ANAMNESIS.definition).success, 'the first format stays valid');
});

test('Barthel index: the ten items with their official points sum to 0 … 100', (t) => {
  t.is(barthel.fields.length, 10);
  const maxima = barthel.fields.map((f) => Math.max(...f.choices!.map((c) => c.points!)));
  t.deepEqual(maxima, [10, 15, 5, 10, 5, 15, 10, 10, 10, 10]);
  const best = computeScores(barthel, allBarthel('first'))[0];
  t.is(best.value, 100);
  t.is(best.band?.de, 'selbständig');
  const worst = computeScores(barthel, allBarthel('last'))[0];
  t.is(worst.value, 0);
  t.is(worst.band?.en, 'largely dependent');
});

test('Barthel index: band edges at 35, 85 and 100, and an open item leaves the score open', (t) => {
  // 30 → largely dependent; 35 → in need of help; 80/85; 95/100
  const a = { ...allBarthel('last'), eating: 'independent', transfer: 'independent', grooming: 'independent' }; // 10+15+5 = 30
  t.is(computeScores(barthel, a)[0].value, 30);
  t.is(computeScores(barthel, a)[0].band?.de, 'weitgehend pflegeabhängig');
  t.is(computeScores(barthel, { ...a, bathing: 'independent' })[0].band?.de, 'hilfebedürftig'); // 35
  const b = { ...allBarthel('first'), bathing: 'help', grooming: 'help', toilet: 'help' }; // 100 - 5 - 5 - 5 = 85
  t.is(computeScores(barthel, b)[0].value, 85);
  t.is(computeScores(barthel, b)[0].band?.de, 'punktuell hilfebedürftig');
  t.is(computeScores(barthel, { ...b, toilet: 'unable' })[0].band?.de, 'hilfebedürftig'); // 80
  const { stairs: _omitted, ...open } = allBarthel('first');
  const s = computeScores(barthel, open)[0];
  t.is(s.value, null);
  t.is(s.missing, 1);
  t.is(s.band, undefined);
  t.is(validateAnswers(barthel, open, 'b')[0].field, 'body.answers.stairs');
  t.is(prequalify(barthel, allBarthel('last'), 80).status, 'needs_review', 'a rule reads the score');
  t.is(prequalify(barthel, allBarthel('first'), 80).status, 'qualified');
});

test('Timed Up and Go: seconds with the bands <10, 10–19, 20–29, ≥30', (t) => {
  const band = (seconds: number) => computeScores(tug, { seconds, walking_aid: false })[0].band?.en;
  t.is(band(0), 'normal mobility');
  t.is(band(9.9), 'normal mobility');
  t.is(band(10), 'slight limitation, usually without everyday relevance');
  t.is(band(19.5), 'slight limitation, usually without everyday relevance');
  t.is(band(20), 'functionally relevant limitation of mobility');
  t.is(band(29.99), 'functionally relevant limitation of mobility');
  t.is(band(30), 'severe limitation of mobility');
  t.is(band(120), 'severe limitation of mobility');
  t.is(computeScores(tug, { seconds: 12.4, walking_aid: false })[0].value, 12.4);
  t.is(computeScores(tug, { walking_aid: false })[0].value, null);
  t.deepEqual(validateAnswers(tug, { seconds: -1, walking_aid: false }, 'tug').map((i) => i.field), ['body.answers.seconds']);
  t.is(prequalify(tug, { seconds: 25, walking_aid: true, aid_type: 'walker' }, 80).status, 'needs_review');
  t.is(prequalify(tug, { seconds: 8, walking_aid: false }, 80).status, 'qualified');
});

const conditional: Definition = {
  sections: [{ key: 'pain', label: l('Schmerz'), showIf: { field: 'has_pain', op: 'eq', value: true } }],
  fields: [
    { key: 'has_pain', type: 'boolean', label: l('Schmerzen?'), required: true },
    { key: 'intensity', type: 'scale', label: l('Stärke'), min: 0, max: 10, section: 'pain', required: true },
    { key: 'where', type: 'multi_choice', label: l('Wo?'), section: 'pain', choices: [{ key: 'back', label: l('Rücken'), points: 2 }, { key: 'knee', label: l('Knie'), points: 1 }] },
    { key: 'knee_side', type: 'choice', label: l('Welches Knie?'), showIf: { field: 'where', op: 'contains', value: 'knee' }, choices: [{ key: 'left', label: l('links'), points: 1 }, { key: 'right', label: l('rechts'), points: 1 }], required: true },
    { key: 'sleep', type: 'number', label: l('Schlaf'), unit: l('Stunden'), min: 0, max: 24 },
  ],
  rules: [{ id: 'strong', all: [{ field: 'load', op: 'gte', value: 10 }], outcome: 'not_qualified', reason: l('Starke Schmerzen') }],
  scores: [{ key: 'load', label: l('Last'), kind: 'sum', fields: ['intensity', 'where', 'knee_side'] }],
};

test('a sum counts nothing for questions a condition hides, also through a hidden section', (t) => {
  t.true(definitionSchema.safeParse(conditional).success);
  // hidden section: intensity/where/knee_side are not asked → sum 0, complete
  t.deepEqual(computeScores(conditional, { has_pain: false }).map((s) => [s.value, s.missing]), [[0, 0]]);
  // an answer to a hidden question is refused and would not count
  t.deepEqual(validateAnswers(conditional, { has_pain: false, intensity: 5 }, 'c').map((i) => i.code), ['not_asked']);
  t.is(computeScores(conditional, { has_pain: false, intensity: 5 })[0].value, 0);
  // shown: 6 + back 2 = 8; knee adds 1 and asks for the side (+1) → 10
  t.is(computeScores(conditional, { has_pain: true, intensity: 6, where: ['back'] })[0].value, 8);
  t.is(computeScores(conditional, { has_pain: true, intensity: 6, where: ['back', 'knee'] })[0].value, null, 'knee side is asked and open');
  t.is(computeScores(conditional, { has_pain: true, intensity: 6, where: ['back', 'knee'], knee_side: 'left' })[0].value, 10);
  t.is(computeScores(conditional, { has_pain: true, intensity: 6 })[0].value, 6, 'no option chosen counts 0');
  t.is(prequalify(conditional, { has_pain: true, intensity: 6, where: ['back', 'knee'], knee_side: 'left' }, null).status, 'not_qualified');
  const shown = visibility(conditional, { has_pain: true, where: ['back'] });
  t.deepEqual(conditional.fields.map((f) => shown(f.key)), [true, true, true, false, true]);
  t.deepEqual(validateAnswers(conditional, { has_pain: true, where: ['knee'] }, 'c').map((i) => i.field).sort(), ['body.answers.intensity', 'body.answers.knee_side']);
  t.deepEqual(validateAnswers(conditional, { has_pain: true, intensity: 3.5 }, 'c').map((i) => i.message), ['must be a whole number']);
});

const issuesOf = (d: unknown, schema = definitionSchema) => {
  const r = schema.safeParse(d);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('definition checks name the field: cycles, unknown and duplicate references, non-numeric scores, size', (t) => {
  const q = (key: string, extra: Record<string, unknown> = {}) => ({ key, type: 'boolean', label: l(key), ...extra });
  const cyc = issuesOf({ fields: [q('a', { showIf: { field: 'b', op: 'eq', value: true } }), q('b', { showIf: { field: 'a', op: 'eq', value: true } })], rules: [] });
  t.true(cyc.some((m) => /^fields\.\d\.showIf\.field: conditions form a cycle: (a → b → a|b → a → b)$/.test(m)), cyc.join('; '));
  const viaSection = issuesOf({ sections: [{ key: 's', label: l('S'), showIf: { field: 'a', equals: true } }], fields: [q('a', { section: 's' })], rules: [] });
  t.true(viaSection.some((m) => m.includes('cycle')), viaSection.join('; '));
  t.deepEqual(issuesOf({ fields: [q('a', { showIf: { field: 'a', equals: true } })], rules: [] }), ['fields.0.showIf.field: a question cannot depend on itself']);
  t.deepEqual(issuesOf({ fields: [q('a', { showIf: { field: 'zz', op: 'present' } })], rules: [] }), ['fields.0.showIf.field: unknown question zz']);
  t.deepEqual(issuesOf({ fields: [q('a'), q('a')], rules: [] }), ['fields.1.key: duplicate key a']);
  t.deepEqual(issuesOf({ fields: [q('a')], rules: [{ id: 'r', all: [{ field: 'nope', op: 'present' }], outcome: 'needs_review', reason: l('x') }] }), ['rules.0.all.0.field: unknown question or score nope']);
  t.deepEqual(issuesOf({ fields: [q('a'), { key: 'n', type: 'text', label: l('n') }], rules: [], scores: [{ key: 's', label: l('S'), kind: 'sum', fields: ['a', 'n', 'x'] }] }), [
    'scores.0.fields.0: question a is not numeric (a number, a scale, or choices that all have points)',
    'scores.0.fields.1: question n is not numeric (a number, a scale, or choices that all have points)',
    'scores.0.fields.2: unknown question x',
  ]);
  t.deepEqual(issuesOf({ fields: [{ key: 'c', type: 'choice', label: l('c'), choices: [{ key: 'x', label: l('x'), points: 1 }, { key: 'y', label: l('y') }] }], rules: [], scores: [{ key: 's', label: l('S'), kind: 'sum', fields: ['c'] }] }),
    ['scores.0.fields.0: question c is not numeric (a number, a scale, or choices that all have points)']);
  t.deepEqual(issuesOf({ fields: [q('a')], rules: [], scores: [{ key: 'a', label: l('S'), kind: 'sum', fields: [] }] }).sort(), ['scores.0.fields: Too small: expected array to have >=1 items', 'scores.0.key: duplicate key a'].sort());
  t.deepEqual(issuesOf({ fields: [], rules: [] }), ['fields: needs at least one question']);
  t.deepEqual(issuesOf({ fields: [], rules: [] }, draftDefinitionSchema), [], 'a draft may be empty');
  t.deepEqual(issuesOf({ fields: [{ key: 'a', type: 'boolean', label: {} }], rules: [] }), ['fields.0.label: needs a German or an English text']);
  const big = { fields: Array.from({ length: 300 }, (_, i) => ({ key: `q${i}`, type: 'long_text', label: { de: 'x'.repeat(500), en: 'y'.repeat(500) }, help: { de: 'h'.repeat(500) } })), rules: [] };
  t.true(issuesOf(big).some((m) => m.startsWith(': must be at most 200000 characters')));
});

test('the hair clinic template keeps the keys of the first version: earlier answers stay valid', (t) => {
  const before = { smoker: true, cigarettes_per_day: 30, blood_thinners: false, hair_status: 'norwood_7', conditions: ['Hypertonie'], allergies: ['Penicillin'], free_text: 'x' };
  t.deepEqual(validateAnswers(LEGACY_ANAMNESIS.definition, before, 'v1'), []);
  t.deepEqual(validateAnswers(hair, before, 'template'), []);
  t.deepEqual(prequalify(hair, before, 40), prequalify(LEGACY_ANAMNESIS.definition, before, 40));
  t.deepEqual(hair.fields.map((f) => f.key), LEGACY_ANAMNESIS.definition.fields.map((f) => f.key));
});
