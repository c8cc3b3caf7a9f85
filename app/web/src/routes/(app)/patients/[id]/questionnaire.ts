// The questionnaire form's values as strings (what inputs hold) and the answers the API takes.
import type { QuestionField } from '#lib/api.ts';

/** Input values: strings, numbers (number inputs), string arrays (checkbox groups). */
export type FormValues = Record<string, string | number | null | string[]>;

/** A field is shown when it has no condition or its condition holds for the current answers. */
export function visible(field: QuestionField, answers: Record<string, unknown>): boolean {
  return !field.showIf || answers[field.showIf.field] === field.showIf.equals;
}

/** One value as the API expects it; undefined when left empty. */
function answerOf(field: QuestionField, raw: string | number | null | string[] | undefined): unknown {
  if (Array.isArray(raw)) return raw.length ? raw : undefined;
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  const s = (raw ?? '').trim();
  if (field.type === 'list') {
    const items = s.split('\n').map((l) => l.trim()).filter(Boolean);
    return items.length ? items : undefined;
  }
  if (!s) return undefined;
  if (field.type === 'boolean') return s === 'true';
  if (field.type === 'number') return Number(s.replace(',', '.'));
  return s;
}

/** The answers of the visible fields, in definition order (so showIf sees earlier answers). */
export function answersOf(fields: QuestionField[], values: FormValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (!visible(f, out)) continue;
    const v = answerOf(f, values[f.key]);
    if (v !== undefined) out[f.key] = v;
  }
  return out;
}

/** Stored answers back into form values (for an update). */
export function valuesOf(fields: QuestionField[], answers: Record<string, unknown>): FormValues {
  const out: FormValues = {};
  for (const f of fields) {
    const v = answers[f.key];
    if (v === undefined || v === null) out[f.key] = f.type === 'multi_choice' ? [] : '';
    else if (f.type === 'multi_choice') out[f.key] = Array.isArray(v) ? v.map(String) : [];
    else if (f.type === 'list') out[f.key] = Array.isArray(v) ? v.map(String).join('\n') : String(v);
    else out[f.key] = String(v);
  }
  return out;
}

/** "norwood_7" → "Norwood 7": option keys carry no labels in the definition. */
export function optionLabel(option: string): string {
  const s = option.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}
