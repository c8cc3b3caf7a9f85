// Validates answers against a questionnaire version, computes its scores and applies its
// pre-qualification rules. Pure functions: no database, no keys; the web UI's live preview uses
// the same module (tests/unit/questionnaire-scores.test.ts).
// Only type imports: the web UI bundles this module.
import type { FieldIssue } from '../../core/errors.ts';
import type { BandDef, ConditionDef, Definition, FieldDef, Label, ScoreDef, ShowIf } from './questionnaire.schema.ts';

function isValidIsoDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  return !!m && new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).toISOString().slice(0, 10) === s;
}

/** The condition of the first format ({ field, equals }) as a condition. */
export const conditionOf = (s: ShowIf): ConditionDef => ('equals' in s ? { field: s.field, op: 'eq', value: s.equals } : s);

export type Answers = Record<string, unknown>;
export type Status = 'qualified' | 'needs_review' | 'not_qualified';
export interface Prequalification {
  status: Status;
  reasons: { rule: string; outcome: Status; de: string; en: string }[];
}
/** A computed score as stored with the answers: value null while a shown item is unanswered. */
export interface ScoreResult {
  key: string;
  label: { de: string; en: string };
  value: number | null;
  unit?: { de: string; en: string };
  band?: { de: string; en: string };
  /** Shown items without an answer (the value is null then). */
  missing: number;
}

/** Both languages, the missing one filled from the other. */
export const both = (l: Label): { de: string; en: string } => ({ de: l.de ?? l.en ?? '', en: l.en ?? l.de ?? '' });

/** The option keys of a choice question (first format: options; current: choices). */
export const optionKeys = (f: FieldDef): string[] => f.choices?.map((c) => c.key) ?? f.options ?? [];

export function holds(c: ConditionDef, value: unknown): boolean {
  const x = c.value;
  switch (c.op) {
    case 'present':
      return value !== undefined && value !== null && value !== '' && !(Array.isArray(value) && value.length === 0);
    case 'eq':
      return Array.isArray(value) ? value.includes(x as never) : value === x;
    case 'neq':
      return value !== undefined && (Array.isArray(value) ? !value.includes(x as never) : value !== x);
    case 'gt':
      return typeof value === 'number' && typeof x === 'number' && value > x;
    case 'gte':
      return typeof value === 'number' && typeof x === 'number' && value >= x;
    case 'lt':
      return typeof value === 'number' && typeof x === 'number' && value < x;
    case 'lte':
      return typeof value === 'number' && typeof x === 'number' && value <= x;
    case 'in':
      return Array.isArray(x) && (Array.isArray(value) ? value.some((v) => x.includes(v as never)) : x.includes(value as never));
    case 'contains': {
      const needle = String(x ?? '').toLowerCase();
      if (Array.isArray(value)) return value.some((v) => String(v).toLowerCase() === needle || String(v).toLowerCase().includes(needle));
      return typeof value === 'string' && value.toLowerCase().includes(needle);
    }
  }
}

/**
 * Which questions and sections are shown for these answers. A question is shown when its section
 * is shown, its condition holds, and the question its condition reads is shown itself (the answer
 * to a hidden question counts as not given). Definitions have no cycles (the schema refuses them).
 */
export function visibility(def: Definition, answers: Answers): (key: string) => boolean {
  const fields = new Map(def.fields.map((f) => [f.key, f]));
  const sections = new Map((def.sections ?? []).map((s) => [s.key, s]));
  const memo = new Map<string, boolean>();
  const cond = (s: ShowIf | undefined, depth: number): boolean => {
    if (!s) return true;
    const c = conditionOf(s);
    return shown(c.field, depth + 1) && holds(c, answers[c.field]);
  };
  const shown = (key: string, depth = 0): boolean => {
    const known = memo.get(key);
    if (known !== undefined) return known;
    if (depth > 1000) return false;
    const f = fields.get(key);
    const s = f ? undefined : sections.get(key);
    let result = false;
    if (f) result = (!f.section || shown(f.section, depth + 1)) && cond(f.showIf, depth);
    else if (s) result = cond(s.showIf, depth);
    memo.set(key, result);
    return result;
  };
  return (key) => shown(key);
}

function checkValue(f: FieldDef, v: unknown): string | undefined {
  switch (f.type) {
    case 'boolean':
      return typeof v === 'boolean' ? undefined : 'must be true or false';
    case 'number':
    case 'scale':
      if (typeof v !== 'number' || !Number.isFinite(v)) return 'must be a number';
      if (f.type === 'scale' && !Number.isInteger(v)) return 'must be a whole number';
      if (v < (f.min ?? (f.type === 'scale' ? 0 : -Infinity))) return `must be at least ${f.min ?? 0}`;
      if (v > (f.max ?? (f.type === 'scale' ? 10 : Infinity))) return `must be at most ${f.max ?? 10}`;
      return undefined;
    case 'text':
    case 'long_text': {
      if (typeof v !== 'string') return 'must be text';
      const max = f.maxLength ?? (f.type === 'long_text' ? 10_000 : 2000);
      return v.length > max ? `must be at most ${max} characters` : undefined;
    }
    case 'date':
      return typeof v === 'string' && isValidIsoDate(v) ? undefined : 'must be a date YYYY-MM-DD';
    case 'choice':
      return typeof v === 'string' && optionKeys(f).includes(v) ? undefined : `must be one of ${optionKeys(f).join(', ')}`;
    case 'multi_choice':
      return Array.isArray(v) && v.every((x) => typeof x === 'string' && optionKeys(f).includes(x)) && new Set(v).size === v.length
        ? undefined : `must be a list of distinct ${optionKeys(f).join(', ')}`;
    case 'list':
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x.trim().length > 0 && x.length <= 500)) return 'must be a list of texts (1–500 characters each)';
      return v.length > (f.maxItems ?? 100) ? `must have at most ${f.maxItems ?? 100} entries` : undefined;
  }
}

/** Returns the issues, each naming body.answers.<field>; an empty list means valid. */
export function validateAnswers(def: Definition, answers: unknown, label: string): FieldIssue[] {
  const prefix = 'body.answers';
  if (typeof answers !== 'object' || answers === null || Array.isArray(answers)) return [{ field: prefix, message: 'must be an object' }];
  const a = answers as Answers;
  const fields = new Map(def.fields.map((f) => [f.key, f]));
  const issues: FieldIssue[] = [];
  for (const key of Object.keys(a)) {
    if (!fields.has(key)) issues.push({ field: `${prefix}.${key}`, message: `is not a question of questionnaire ${label}`, code: 'unknown_field' });
  }
  const shown = visibility(def, a);
  for (const f of def.fields) {
    const v = a[f.key];
    const isShown = shown(f.key);
    if (v === undefined || v === null) {
      if (isShown && f.required) issues.push({ field: `${prefix}.${f.key}`, message: 'is required', code: 'required' });
      continue;
    }
    if (!isShown) {
      issues.push({ field: `${prefix}.${f.key}`, message: 'is not asked for these answers (its condition does not hold)', code: 'not_asked' });
      continue;
    }
    const problem = checkValue(f, v);
    if (problem) issues.push({ field: `${prefix}.${f.key}`, message: problem });
  }
  return issues;
}

function pointsOf(f: FieldDef, v: unknown): number | null {
  if (f.type === 'number' || f.type === 'scale') return typeof v === 'number' && Number.isFinite(v) ? v : null;
  const points = new Map((f.choices ?? []).map((c) => [c.key, c.points ?? 0]));
  if (f.type === 'choice') return typeof v === 'string' && points.has(v) ? points.get(v)! : null;
  if (f.type === 'multi_choice') return Array.isArray(v) ? v.reduce((s: number, x) => s + (points.get(String(x)) ?? 0), 0) : null;
  return null;
}

export function bandOf(bands: BandDef[] | undefined, value: number): BandDef | undefined {
  return bands?.find((b) => (b.from === undefined || value >= b.from) && (b.below === undefined || value < b.below));
}

/**
 * Every score of the definition. A hidden question counts nothing (it was not asked); a shown
 * question without an answer leaves the score open (value null, missing > 0) rather than a
 * misleadingly low number. An unanswered multiple choice counts as "none chosen".
 */
export function computeScores(def: Definition, answers: Answers): ScoreResult[] {
  const fields = new Map(def.fields.map((f) => [f.key, f]));
  const shown = visibility(def, answers);
  return (def.scores ?? []).map((s: ScoreDef) => {
    let sum = 0;
    let missing = 0;
    for (const k of s.fields) {
      const f = fields.get(k);
      if (!f || !shown(k)) continue;
      const v = answers[k];
      const p = v === undefined || v === null ? (f.type === 'multi_choice' ? 0 : null) : pointsOf(f, v);
      if (p === null) missing++;
      else sum += p;
    }
    const value = missing ? null : Math.round(sum * 1000) / 1000;
    const band = value === null ? undefined : bandOf(s.bands, value);
    return {
      key: s.key, label: both(s.label), value, missing,
      ...(s.unit ? { unit: both(s.unit) } : {}),
      ...(band ? { band: both(band.label) } : {}),
    };
  });
}

/**
 * not_qualified beats needs_review beats qualified; every matching rule is a reason. Conditions
 * read the shown answers, the scores (by key) and the patient's age.
 */
export function prequalify(def: Definition, answers: Answers, age: number | null, scores: ScoreResult[] = computeScores(def, answers)): Prequalification {
  const shown = visibility(def, answers);
  const ctx: Answers = { age };
  for (const [k, v] of Object.entries(answers)) if (shown(k)) ctx[k] = v;
  for (const s of scores) ctx[s.key] = s.value;
  const reasons = def.rules
    .filter((r) => r.all.every((c) => holds(c, ctx[c.field])))
    .map((r) => ({ rule: r.id, outcome: r.outcome as Status, ...both(r.reason) }));
  const status: Status = reasons.some((r) => r.outcome === 'not_qualified') ? 'not_qualified' : reasons.some((r) => r.outcome === 'needs_review') ? 'needs_review' : 'qualified';
  return { status, reasons };
}
