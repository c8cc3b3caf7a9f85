// Validates answers against a questionnaire version and applies its pre-qualification rules.
// Pure functions: no database, no keys (tested in tests/unit/patients-questionnaire.test.ts).
import type { FieldIssue } from '../../core/errors.ts';
import { isValidIsoDate } from '../patients/patient.schema.ts';
import type { ConditionDef, Definition, FieldDef } from './questionnaire.schema.ts';

export type Answers = Record<string, unknown>;
export type Status = 'qualified' | 'needs_review' | 'not_qualified';
export interface Prequalification {
  status: Status;
  reasons: { rule: string; outcome: Status; de: string; en: string }[];
}

function visible(f: FieldDef, answers: Answers): boolean {
  return !f.showIf || answers[f.showIf.field] === f.showIf.equals;
}

function checkValue(f: FieldDef, v: unknown): string | undefined {
  switch (f.type) {
    case 'boolean':
      return typeof v === 'boolean' ? undefined : 'must be true or false';
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) return 'must be a number';
      if (f.min !== undefined && v < f.min) return `must be at least ${f.min}`;
      if (f.max !== undefined && v > f.max) return `must be at most ${f.max}`;
      return undefined;
    case 'text':
      if (typeof v !== 'string') return 'must be text';
      return v.length > (f.maxLength ?? 2000) ? `must be at most ${f.maxLength ?? 2000} characters` : undefined;
    case 'date':
      return typeof v === 'string' && isValidIsoDate(v) ? undefined : 'must be a date YYYY-MM-DD';
    case 'choice':
      return typeof v === 'string' && f.options!.includes(v) ? undefined : `must be one of ${f.options!.join(', ')}`;
    case 'multi_choice':
      return Array.isArray(v) && v.every((x) => typeof x === 'string' && f.options!.includes(x)) ? undefined : `must be a list of ${f.options!.join(', ')}`;
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
    if (!fields.has(key)) issues.push({ field: `${prefix}.${key}`, message: `is not a field of questionnaire ${label}` });
  }
  for (const f of def.fields) {
    const v = a[f.key];
    const shown = visible(f, a);
    if (v === undefined || v === null) {
      if (shown && f.required) issues.push({ field: `${prefix}.${f.key}`, message: 'is required' });
      continue;
    }
    if (!shown) {
      issues.push({ field: `${prefix}.${f.key}`, message: `is only asked when ${f.showIf!.field} is ${String(f.showIf!.equals)}` });
      continue;
    }
    const problem = checkValue(f, v);
    if (problem) issues.push({ field: `${prefix}.${f.key}`, message: problem });
  }
  return issues;
}

function holds(c: ConditionDef, value: unknown): boolean {
  const x = c.value;
  switch (c.op) {
    case 'present':
      return value !== undefined && value !== null && value !== '' && !(Array.isArray(value) && value.length === 0);
    case 'eq':
      return value === x;
    case 'neq':
      return value !== undefined && value !== x;
    case 'gt':
      return typeof value === 'number' && typeof x === 'number' && value > x;
    case 'gte':
      return typeof value === 'number' && typeof x === 'number' && value >= x;
    case 'lt':
      return typeof value === 'number' && typeof x === 'number' && value < x;
    case 'lte':
      return typeof value === 'number' && typeof x === 'number' && value <= x;
    case 'in':
      return Array.isArray(x) && x.includes(value as never);
    case 'contains': {
      const needle = String(x ?? '').toLowerCase();
      if (Array.isArray(value)) return value.some((v) => String(v).toLowerCase().includes(needle));
      return typeof value === 'string' && value.toLowerCase().includes(needle);
    }
  }
}

/** not_qualified beats needs_review beats qualified; every matching rule is a reason. */
export function prequalify(def: Definition, answers: Answers, age: number): Prequalification {
  const ctx: Answers = { ...answers, age };
  const reasons = def.rules
    .filter((r) => r.all.every((c) => holds(c, ctx[c.field])))
    .map((r) => ({ rule: r.id, outcome: r.outcome as Status, de: r.reason.de, en: r.reason.en }));
  const status: Status = reasons.some((r) => r.outcome === 'not_qualified') ? 'not_qualified' : reasons.length ? 'needs_review' : 'qualified';
  return { status, reasons };
}
