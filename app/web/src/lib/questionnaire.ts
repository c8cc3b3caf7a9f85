// Questionnaires in the UI: the form's values (what inputs hold) and the answers the API takes,
// labels in the UI language, and the API's own evaluation (conditions, scores, pre-qualification)
// for the live preview and the form, so what the screen shows is what the server will store.
import type { QuestionField, Questionnaire } from '#lib/api.ts';
import { i18n } from '#lib/i18n/i18n.svelte.ts';
import * as evaluate from '../../../api/src/modules/records/questionnaire.evaluate.ts';
import type { Definition as ApiDefinition } from '../../../api/src/modules/records/questionnaire.schema.ts';

export type Definition = Questionnaire['definition'];
export type Field = QuestionField;
export type Label = { de?: string; en?: string };
export type ScoreValue = evaluate.ScoreResult;
export type Prequalification = evaluate.Prequalification;

/** Input values: strings, string arrays (checkbox groups). */
export type FormValues = Record<string, string | number | null | string[]>;

const api = (d: Definition) => d as unknown as ApiDefinition;

/** A label in the UI language, or in the other one when the practice wrote only one. */
export function lbl(l: Label | { de: string; en: string } | undefined): string {
  if (!l) return '';
  return (i18n.locale === 'de' ? l.de || l.en : l.en || l.de) ?? '';
}

/** "norwood_7" → "Norwood 7": options of the first format carry no labels. */
export function optionLabel(option: string): string {
  const s = option.replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The options of a choice question with their labels (first format: from the key). */
export function choicesOf(f: Field): { key: string; label: string; points?: number }[] {
  if (f.choices) return f.choices.map((c) => ({ key: c.key, label: lbl(c.label), points: c.points }));
  return (f.options ?? []).map((o) => ({ key: o, label: optionLabel(o) }));
}

/** One value as the API expects it; undefined when left empty. */
function answerOf(field: Field, raw: string | number | null | string[] | undefined): unknown {
  if (Array.isArray(raw)) return raw.length ? raw : undefined;
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  const s = (raw ?? '').trim();
  if (field.type === 'list') {
    const items = s.split('\n').map((l) => l.trim()).filter(Boolean);
    return items.length ? items : undefined;
  }
  if (!s) return undefined;
  if (field.type === 'boolean') return s === 'true';
  if (field.type === 'number' || field.type === 'scale') {
    const n = Number(s.replace(',', '.'));
    return Number.isFinite(n) ? n : s; // text that is no number goes to the server, which names the field
  }
  return s;
}

/** The answers of the shown questions (a hidden question's value is not sent). */
export function answersOf(def: Definition, values: FormValues): Record<string, unknown> {
  const all: Record<string, unknown> = {};
  for (const f of def.fields) {
    const v = answerOf(f, values[f.key]);
    if (v !== undefined) all[f.key] = v;
  }
  const shown = evaluate.visibility(api(def), all);
  return Object.fromEntries(Object.entries(all).filter(([k]) => shown(k)));
}

/** Stored answers back into form values (for an update). */
export function valuesOf(fields: Field[], answers: Record<string, unknown>): FormValues {
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

/** Which questions and sections are shown for these answers. */
export const visibility = (def: Definition, answers: Record<string, unknown>) => evaluate.visibility(api(def), answers);
export const computeScores = (def: Definition, answers: Record<string, unknown>) => evaluate.computeScores(api(def), answers);
export const prequalify = (def: Definition, answers: Record<string, unknown>, age: number | null) => evaluate.prequalify(api(def), answers, age);
/** Issues of the answers, as the server would name them (body.answers.<key>). */
export const validateAnswers = (def: Definition, answers: Record<string, unknown>) => evaluate.validateAnswers(api(def), answers, '');

export { keyFromLabel } from './questionnaire-keys.ts';
