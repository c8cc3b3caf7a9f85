// A questionnaire definition: typed fields (with conditional visibility) and pre-qualification
// rules. Definitions are versioned per organization; answers always name the version they used.
import { z } from 'zod';

const label = z.strictObject({ de: z.string().trim().min(1).max(500), en: z.string().trim().min(1).max(500) });
const fieldKey = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'lowercase letters, digits and underscores');
const scalar = z.union([z.boolean(), z.string().max(200), z.number()]);

export const FIELD_TYPES = ['boolean', 'text', 'number', 'choice', 'multi_choice', 'list', 'date'] as const;

export const fieldDef = z.strictObject({
  key: fieldKey,
  type: z.enum(FIELD_TYPES),
  label,
  required: z.boolean().optional(),
  options: z.array(z.string().regex(/^[a-z0-9_]{1,60}$/)).min(1).max(100).optional(),
  min: z.number().optional(),
  max: z.number().optional(),
  maxLength: z.number().int().min(1).max(20_000).optional(),
  maxItems: z.number().int().min(1).max(200).optional(),
  showIf: z.strictObject({ field: fieldKey, equals: scalar }).optional(),
});
export type FieldDef = z.infer<typeof fieldDef>;

export const OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'contains', 'present'] as const;
/** Rule conditions may also use the virtual field "age" (years, from the patient's birth date). */
export const conditionDef = z.strictObject({ field: fieldKey, op: z.enum(OPS), value: z.union([scalar, z.array(scalar).max(100)]).optional() });
export const ruleDef = z.strictObject({
  id: fieldKey,
  all: z.array(conditionDef).min(1).max(10),
  outcome: z.enum(['needs_review', 'not_qualified']),
  reason: label,
});
export type ConditionDef = z.infer<typeof conditionDef>;
export type RuleDef = z.infer<typeof ruleDef>;

export const definitionSchema = z
  .strictObject({ fields: z.array(fieldDef).min(1).max(200), rules: z.array(ruleDef).max(100) })
  .superRefine((d, ctx) => {
    const seen = new Set<string>();
    d.fields.forEach((f, i) => {
      if (seen.has(f.key)) ctx.addIssue({ code: 'custom', path: ['fields', i, 'key'], message: `duplicate field ${f.key}` });
      if ((f.type === 'choice' || f.type === 'multi_choice') && !f.options) ctx.addIssue({ code: 'custom', path: ['fields', i, 'options'], message: 'is required for choice fields' });
      if (f.showIf && !seen.has(f.showIf.field)) ctx.addIssue({ code: 'custom', path: ['fields', i, 'showIf', 'field'], message: 'must name an earlier field' });
      seen.add(f.key);
    });
    d.rules.forEach((r, i) =>
      r.all.forEach((c, j) => {
        if (c.field !== 'age' && !seen.has(c.field)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'all', j, 'field'], message: `unknown field ${c.field}` });
      }),
    );
  });
export type Definition = z.infer<typeof definitionSchema>;

export const publishBody = z.strictObject({
  key: z.string().regex(/^[a-z][a-z0-9_]{1,62}$/),
  title: z.string().trim().min(1).max(200),
  definition: definitionSchema,
});

const t = (de: string, en: string) => ({ de, en });

/** The default anamnesis of a hair-restoration practice; clinics publish their own versions. */
export const DEFAULT_ANAMNESIS: { key: string; title: string; definition: Definition } = {
  key: 'anamnesis',
  title: 'Anamnese',
  definition: {
    fields: [
      { key: 'conditions', type: 'list', label: t('Vorerkrankungen', 'Pre-existing conditions'), maxItems: 50 },
      { key: 'medication', type: 'list', label: t('Medikation', 'Medication'), maxItems: 50 },
      { key: 'allergies', type: 'list', label: t('Allergien', 'Allergies'), maxItems: 50 },
      { key: 'prior_treatments', type: 'list', label: t('Vorbehandlungen', 'Prior treatments'), maxItems: 50 },
      { key: 'smoker', type: 'boolean', label: t('Raucher', 'Smoker'), required: true },
      { key: 'cigarettes_per_day', type: 'number', label: t('Zigaretten pro Tag', 'Cigarettes per day'), min: 0, max: 200, showIf: { field: 'smoker', equals: true } },
      { key: 'blood_thinners', type: 'boolean', label: t('Blutverdünner', 'Blood thinners'), required: true },
      { key: 'blood_thinner_name', type: 'text', label: t('Welcher Blutverdünner?', 'Which blood thinner?'), maxLength: 200, showIf: { field: 'blood_thinners', equals: true } },
      {
        key: 'hair_status', type: 'choice', label: t('Haarstatus (Norwood)', 'Hair status (Norwood)'), required: true,
        options: ['norwood_1', 'norwood_2', 'norwood_3', 'norwood_4', 'norwood_5', 'norwood_6', 'norwood_7'],
      },
      { key: 'hair_loss_years', type: 'number', label: t('Haarausfall seit (Jahren)', 'Hair loss for (years)'), min: 0, max: 100 },
      { key: 'free_text', type: 'text', label: t('Weitere Angaben', 'Further information'), maxLength: 5000 },
    ],
    rules: [
      { id: 'minor', all: [{ field: 'age', op: 'lt', value: 18 }], outcome: 'not_qualified', reason: t('Patient ist minderjährig', 'Patient is under 18') },
      { id: 'blood_thinners', all: [{ field: 'blood_thinners', op: 'eq', value: true }], outcome: 'needs_review', reason: t('Nimmt Blutverdünner', 'Takes blood thinners') },
      {
        id: 'heavy_smoker', all: [{ field: 'smoker', op: 'eq', value: true }, { field: 'cigarettes_per_day', op: 'gt', value: 20 }],
        outcome: 'needs_review', reason: t('Starker Raucher', 'Heavy smoker'),
      },
      { id: 'advanced_loss', all: [{ field: 'hair_status', op: 'eq', value: 'norwood_7' }], outcome: 'needs_review', reason: t('Spenderbereich prüfen (Norwood 7)', 'Check donor area (Norwood 7)') },
      { id: 'allergies', all: [{ field: 'allergies', op: 'present' }], outcome: 'needs_review', reason: t('Allergien angegeben', 'Allergies reported') },
    ],
  },
};
