// Editing a questionnaire definition in the UI: hidden keys generated from labels (renamed, with
// every reference, while the item was never published), new items, moves.
import type { components } from './api.generated.ts';
import { keyFromLabel } from './questionnaire-keys.ts';

// Types from the generated API types only (no Svelte imports: tests/unit run this module in Node).
type Definition = components['schemas']['Questionnaire']['definition'];
type Field = components['schemas']['QuestionField'];
type Label = { de?: string; en?: string };

export type Section = NonNullable<Definition['sections']>[number];
export type Score = NonNullable<Definition['scores']>[number];
export type Rule = Definition['rules'][number];
export type Condition = Rule['all'][number];
export type Choice = NonNullable<Field['choices']>[number];

/** Every key in use at the top level (questions, sections, scores share one name space; "age" is taken). */
export function topKeys(def: Definition): Set<string> {
  return new Set(['age', ...def.fields.map((f) => f.key), ...(def.sections ?? []).map((s) => s.key), ...(def.scores ?? []).map((s) => s.key)]);
}

const labelText = (l: Label) => l.de || l.en || '';

/** A question, section or score was renamed from `from` to `to`: every reference follows. */
export function renameRef(def: Definition, from: string, to: string): void {
  const cond = (c: { field: string } | undefined) => {
    if (c && c.field === from) c.field = to;
  };
  for (const f of def.fields) {
    cond(f.showIf);
    if (f.section === from) f.section = to;
  }
  for (const s of def.sections ?? []) cond(s.showIf);
  for (const s of def.scores ?? []) s.fields = s.fields.map((k) => (k === from ? to : k));
  for (const r of def.rules) r.all.forEach(cond);
}

/** An option of `field` was renamed: conditions comparing that question with it follow. */
export function renameOption(def: Definition, field: string, from: string, to: string): void {
  const fix = (c: { field: string; value?: unknown; equals?: unknown } | undefined) => {
    if (!c || c.field !== field) return;
    if ('equals' in c && c.equals === from) c.equals = to;
    if (c.value === from) c.value = to;
    if (Array.isArray(c.value)) c.value = c.value.map((v) => (v === from ? to : v));
  };
  for (const f of def.fields) fix(f.showIf as never);
  for (const s of def.sections ?? []) fix(s.showIf as never);
  for (const r of def.rules) r.all.forEach((c) => fix(c as never));
}

/**
 * After a label change: an item that was never published gets the key its label suggests
 * (published keys never change: answers given to earlier versions use them).
 */
export function rekey(def: Definition, item: { key: string; label: Label }, published: Set<string>, fallback: string): void {
  if (published.has(item.key)) return;
  const taken = topKeys(def);
  taken.delete(item.key);
  const next = keyFromLabel(labelText(item.label), taken, fallback);
  if (next === item.key) return;
  const old = item.key;
  item.key = next;
  renameRef(def, old, next);
}

export function rekeyOption(def: Definition, field: Field, choice: Choice, published: Set<string>): void {
  if (published.has(`${field.key}.${choice.key}`)) return;
  const taken = new Set((field.choices ?? []).map((c) => c.key));
  taken.delete(choice.key);
  const next = keyFromLabel(labelText(choice.label), taken, 'o');
  if (next === choice.key) return;
  const old = choice.key;
  choice.key = next;
  renameOption(def, field.key, old, next);
}

/** Keys of a published definition (questions, sections, scores, rules, and "question.option"). */
export function publishedKeys(def: Definition | null | undefined): Set<string> {
  const out = new Set<string>();
  if (!def) return out;
  for (const k of topKeys(def)) out.add(k);
  for (const f of def.fields) for (const c of f.choices ?? []) out.add(`${f.key}.${c.key}`);
  for (const f of def.fields) for (const o of f.options ?? []) out.add(`${f.key}.${o}`);
  for (const r of def.rules) out.add(`rule:${r.id}`);
  return out;
}

/** A fresh key nobody uses yet (replaced by one from the label as soon as it has one). */
export function freshKey(taken: Set<string>, prefix: string): string {
  let i = taken.size + 1;
  while (taken.has(`${prefix}${i}`)) i++;
  return `${prefix}${i}`;
}

export function newQuestion(def: Definition): Field {
  return { key: freshKey(topKeys(def), 'q'), type: 'boolean', label: { de: '' } } as Field;
}

export function move<T>(list: T[], i: number, by: -1 | 1): void {
  const j = i + by;
  if (j < 0 || j >= list.length) return;
  [list[i], list[j]] = [list[j], list[i]];
}

/**
 * The definition as the API takes it: empty labels removed (a label needs German or English),
 * optional parts left out when empty, choices only on choice questions.
 */
export function cleaned(def: Definition): Definition {
  const label = (l: Label | undefined) => {
    if (!l) return undefined;
    const out: Label = {};
    if (l.de?.trim()) out.de = l.de.trim();
    if (l.en?.trim()) out.en = l.en.trim();
    return out;
  };
  const labelOrEmpty = (l: Label) => label(l) ?? {};
  const isChoice = (t: string) => t === 'choice' || t === 'multi_choice';
  const copy = plain(def);
  return {
    ...(copy.sections?.length ? { sections: copy.sections.map((s) => ({ ...s, label: labelOrEmpty(s.label) as never })) } : {}),
    fields: copy.fields.map((f) => {
      const out = { ...f, label: labelOrEmpty(f.label) as never } as Field;
      if (!isChoice(f.type)) {
        delete out.choices;
        delete out.options;
      } else if (out.choices) out.choices = out.choices.map((c) => ({ ...c, label: labelOrEmpty(c.label) as never }));
      if (f.type !== 'number' && f.type !== 'scale') {
        delete out.min;
        delete out.max;
      }
      if (f.type !== 'number') delete out.unit;
      const unit = label(out.unit);
      if (unit && (unit.de || unit.en)) out.unit = unit as never;
      else delete out.unit;
      const help = label(out.help);
      if (help && (help.de || help.en)) out.help = help as never;
      else delete out.help;
      if (!out.section) delete out.section;
      if (!out.showIf) delete out.showIf;
      if (!out.required) delete out.required;
      return out;
    }),
    rules: copy.rules.map((r) => ({ ...r, reason: labelOrEmpty(r.reason) as never })),
    ...(copy.scores?.length ? {
      scores: copy.scores.map((s) => {
        const out = { ...s, label: labelOrEmpty(s.label) as never, bands: (s.bands ?? []).map((b) => ({ ...b, label: labelOrEmpty(b.label) as never })) };
        const unit = label(s.unit);
        if (unit && (unit.de || unit.en)) out.unit = unit as never;
        else delete out.unit;
        if (!out.bands.length) delete (out as { bands?: unknown }).bands;
        if (!out.source?.trim()) delete out.source;
        return out;
      }),
    } : {}),
  } as Definition;
}

/** Plain data of a (possibly reactive) value. */
function plain<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
