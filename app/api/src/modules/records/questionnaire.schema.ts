// A questionnaire definition: sections, typed questions (with conditional visibility), scores
// (sums of option points or a measured value, with interpretation bands) and pre-qualification
// rules. Definitions are versioned per organization; answers always name the version they used.
// Every property added since the first format is optional, so every version published before
// (the hair clinic's anamnesis) is still a valid definition. docs/questionnaires.md
import { z } from 'zod';

/** A label in German and/or English (at least one); the UI falls back to the other language. */
const label = z
  .strictObject({ de: z.string().trim().min(1).max(500).optional(), en: z.string().trim().min(1).max(500).optional() })
  .refine((l) => l.de !== undefined || l.en !== undefined, { message: 'needs a German or an English text', params: { code: 'label_required' } });
export type Label = z.infer<typeof label>;
const fieldKey = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'lowercase letters, digits and underscores');
const optionKey = z.string().regex(/^[a-z0-9_]{1,60}$/, 'lowercase letters, digits and underscores');
const scalar = z.union([z.boolean(), z.string().max(200), z.number()]);

/**
 * boolean = yes/no, choice = single choice, multi_choice, number (unit/min/max), date, text (short),
 * long_text, scale (whole numbers min…max, default 0…10), list (one entry per line).
 */
export const FIELD_TYPES = ['boolean', 'text', 'long_text', 'number', 'choice', 'multi_choice', 'list', 'date', 'scale'] as const;
export const OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'contains', 'present'] as const;

/** Rule conditions may also use the virtual field "age" (years, from the patient's birth date) and score keys. */
export const conditionDef = z.strictObject({ field: fieldKey, op: z.enum(OPS), value: z.union([scalar, z.array(scalar).max(100)]).optional() });
export type ConditionDef = z.infer<typeof conditionDef>;
/** The first format's condition ({ field, equals }) or any condition. */
const showIf = z.union([z.strictObject({ field: fieldKey, equals: scalar }), conditionDef]);
export type ShowIf = z.infer<typeof showIf>;

export const choiceDef = z.strictObject({ key: optionKey, label, points: z.number().min(-10_000).max(10_000).optional() });
export type ChoiceDef = z.infer<typeof choiceDef>;

export const fieldDef = z.strictObject({
  key: fieldKey,
  type: z.enum(FIELD_TYPES),
  label,
  help: label.optional(),
  required: z.boolean().optional(),
  section: fieldKey.optional(),
  /** First format: option keys without labels (shown as "Norwood 7"). */
  options: z.array(optionKey).min(1).max(100).optional(),
  /** Options with labels and points (for sums). */
  choices: z.array(choiceDef).min(1).max(100).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  unit: label.optional(),
  maxLength: z.number().int().min(1).max(20_000).optional(),
  maxItems: z.number().int().min(1).max(200).optional(),
  showIf: showIf.optional(),
});
export type FieldDef = z.infer<typeof fieldDef>;

export const sectionDef = z.strictObject({ key: fieldKey, label, showIf: showIf.optional() });
export type SectionDef = z.infer<typeof sectionDef>;

/** A band of a score: from (inclusive) … below (exclusive); either end may be open. */
export const bandDef = z.strictObject({ from: z.number().optional(), below: z.number().optional(), label });
export type BandDef = z.infer<typeof bandDef>;
export const scoreDef = z.strictObject({
  key: fieldKey,
  label,
  /** sum: the points of the chosen options (or the values of number/scale questions); value: one number question as it is. */
  kind: z.enum(['sum', 'value']),
  fields: z.array(fieldKey).min(1).max(200),
  unit: label.optional(),
  bands: z.array(bandDef).max(20).optional(),
  source: z.string().trim().max(500).optional(),
});
export type ScoreDef = z.infer<typeof scoreDef>;

export const ruleDef = z.strictObject({
  id: fieldKey,
  all: z.array(conditionDef).min(1).max(10),
  outcome: z.enum(['qualified', 'needs_review', 'not_qualified']),
  reason: label,
});
export type RuleDef = z.infer<typeof ruleDef>;

export const MAX_DEFINITION_BYTES = 200_000;
const NUMERIC_TYPES = new Set(['number', 'scale']);


const baseDefinition = z.strictObject({
  sections: z.array(sectionDef).max(50).optional(),
  fields: z.array(fieldDef).max(300),
  rules: z.array(ruleDef).max(100),
  scores: z.array(scoreDef).max(30).optional(),
});

type Ctx = z.core.$RefinementCtx<z.infer<typeof baseDefinition>>;

function check(d: z.infer<typeof baseDefinition>, ctx: Ctx) {
  const issue = (path: (string | number)[], message: string, code: string) => ctx.addIssue({ code: 'custom', path, message, params: { code } });
  if (JSON.stringify(d).length > MAX_DEFINITION_BYTES) issue([], `must be at most ${MAX_DEFINITION_BYTES} characters as JSON`, 'definition_too_large');
  const fields = new Map<string, FieldDef>();
  const sections = new Map<string, SectionDef>();
  (d.sections ?? []).forEach((s, i) => {
    if (sections.has(s.key)) issue(['sections', i, 'key'], `duplicate section ${s.key}`, 'duplicate_key');
    sections.set(s.key, s);
  });
  d.fields.forEach((f, i) => {
    if (fields.has(f.key) || sections.has(f.key)) issue(['fields', i, 'key'], `duplicate key ${f.key}`, 'duplicate_key');
    fields.set(f.key, f);
    const isChoice = f.type === 'choice' || f.type === 'multi_choice';
    if (isChoice && !f.options && !f.choices) issue(['fields', i, 'options'], 'choices (or options) are required for choice questions', 'options_required');
    if (f.options && f.choices) issue(['fields', i, 'options'], 'give either options or choices', 'options_conflict');
    if (!isChoice && (f.options || f.choices)) issue(['fields', i, 'choices'], 'only choice questions have options', 'options_conflict');
    const keys = (f.choices ?? []).map((c) => c.key);
    keys.forEach((k, j) => keys.indexOf(k) !== j && issue(['fields', i, 'choices', j, 'key'], `duplicate option ${k}`, 'duplicate_key'));
    if (f.min !== undefined && f.max !== undefined && f.min > f.max) issue(['fields', i, 'max'], 'must not be below min', 'range_order');
    if (f.type === 'scale' && ((f.min ?? 0) % 1 !== 0 || (f.max ?? 10) % 1 !== 0 || (f.max ?? 10) - (f.min ?? 0) > 100)) issue(['fields', i, 'max'], 'a scale has whole-number ends at most 100 apart', 'scale_range');
    if (f.section && !(d.sections ?? []).some((s) => s.key === f.section)) issue(['fields', i, 'section'], `unknown section ${f.section}`, 'unknown_reference');
  });
  const scores = new Map<string, ScoreDef>();
  (d.scores ?? []).forEach((s, i) => {
    if (scores.has(s.key) || fields.has(s.key) || sections.has(s.key) || s.key === 'age') issue(['scores', i, 'key'], `duplicate key ${s.key}`, 'duplicate_key');
    scores.set(s.key, s);
    if (s.kind === 'value' && s.fields.length !== 1) issue(['scores', i, 'fields'], 'a value score names exactly one question', 'value_score_one');
    s.fields.forEach((k, j) => {
      const f = fields.get(k);
      if (!f) return issue(['scores', i, 'fields', j], `unknown question ${k}`, 'unknown_reference');
      if (s.fields.indexOf(k) !== j) return issue(['scores', i, 'fields', j], `question ${k} is counted twice`, 'duplicate_key');
      const numeric = NUMERIC_TYPES.has(f.type) || (s.kind === 'sum' && (f.type === 'choice' || f.type === 'multi_choice') && !!f.choices && f.choices.every((c) => c.points !== undefined));
      if (!numeric) issue(['scores', i, 'fields', j], `question ${k} is not numeric (a number, a scale, or choices that all have points)`, 'not_numeric');
    });
    (s.bands ?? []).forEach((b, j) => {
      if (b.from !== undefined && b.below !== undefined && b.from >= b.below) issue(['scores', i, 'bands', j, 'below'], 'must be above from', 'range_order');
    });
  });
  // conditions: known references, and no cycle (a question shown when a question is shown when …)
  const deps = new Map<string, string[]>();
  const ref = (path: (string | number)[], c: ShowIf | undefined, own: string): string[] => {
    if (!c) return [];
    if (!fields.has(c.field)) issue(path, `unknown question ${c.field}`, 'unknown_reference');
    else if (c.field === own) issue(path, 'a question cannot depend on itself', 'condition_cycle');
    else return [c.field];
    return [];
  };
  (d.sections ?? []).forEach((s, i) => deps.set(s.key, ref(['sections', i, 'showIf', 'field'], s.showIf, s.key)));
  d.fields.forEach((f, i) => {
    const own = ref(['fields', i, 'showIf', 'field'], f.showIf, f.key);
    deps.set(f.key, [...own, ...(f.section ? [f.section] : [])]);
  });
  const state = new Map<string, 'open' | 'done'>();
  const visit = (k: string, trail: string[]): string[] | null => {
    if (state.get(k) === 'done') return null;
    if (state.get(k) === 'open') return [...trail.slice(trail.indexOf(k)), k];
    state.set(k, 'open');
    for (const next of deps.get(k) ?? []) {
      const cycle = visit(next, [...trail, k]);
      if (cycle) return cycle;
    }
    state.set(k, 'done');
    return null;
  };
  for (const [k] of deps) {
    const cycle = visit(k, []);
    if (cycle) {
      const i = d.fields.findIndex((f) => f.key === cycle[0]);
      issue(i >= 0 ? ['fields', i, 'showIf', 'field'] : ['sections', (d.sections ?? []).findIndex((s) => s.key === cycle[0]), 'showIf', 'field'], `conditions form a cycle: ${cycle.join(' → ')}`, 'condition_cycle');
      break;
    }
  }
  d.rules.forEach((r, i) => {
    if (d.rules.findIndex((x) => x.id === r.id) !== i) issue(['rules', i, 'id'], `duplicate rule ${r.id}`, 'duplicate_key');
    r.all.forEach((c, j) => {
      if (c.field !== 'age' && !fields.has(c.field) && !scores.has(c.field)) issue(['rules', i, 'all', j, 'field'], `unknown question or score ${c.field}`, 'unknown_reference');
    });
  });
}

/** A draft: may still be empty. */
export const draftDefinitionSchema = baseDefinition.superRefine(check);
/** A published version: at least one question. */
export const definitionSchema = baseDefinition.superRefine((d, ctx) => {
  if (d.fields.length === 0) ctx.addIssue({ code: 'custom', path: ['fields'], message: 'needs at least one question', params: { code: 'no_questions' } });
  check(d, ctx);
});
export type Definition = z.infer<typeof definitionSchema>;

export const questionnaireKey = z.string().regex(/^[a-z][a-z0-9_]{1,62}$/);
export const titleSchema = z.string().trim().min(1).max(200);

export const publishBody = z.strictObject({
  key: questionnaireKey,
  title: titleSchema,
  definition: definitionSchema,
});

/** The first version of the hair clinic's anamnesis (kept under its first name for callers). */
export { LEGACY_ANAMNESIS as DEFAULT_ANAMNESIS } from './questionnaire.templates.ts';
