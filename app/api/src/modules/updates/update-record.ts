// The record the host updater writes for every update or rollback (`praxiskern update-record
// --json-file FILE|-`), validated strictly: one error naming the field, never a stack trace.
import { isCleanText } from '../../core/text.ts';

export const UPDATE_KINDS = ['update', 'rollback'] as const;
export const UPDATE_OUTCOMES = ['running', 'succeeded', 'rolled_back', 'failed', 'refused'] as const;
export type UpdateKind = (typeof UPDATE_KINDS)[number];
export type UpdateOutcome = (typeof UPDATE_OUTCOMES)[number];

export interface UpdateRecord {
  id: string;
  kind: UpdateKind;
  fromVersion: string;
  toVersion: string;
  startedAt: string;
  finishedAt: string | null;
  outcome: UpdateOutcome;
  by: string;
  durationSeconds: number | null;
  detail: string | null;
  forced: boolean;
  forceReason: string | null;
  snapshotRestored: boolean;
  phases: Record<string, number>;
}

/** Bad input: the CLI prints the message as one line and exits 64. */
export class UpdateRecordInvalid extends Error {
  readonly field: string | null;
  constructor(field: string | null, message: string) {
    super(field ? `${field}: ${message}` : message);
    this.field = field;
  }
}

export const MAX_RECORD_BYTES = 64 * 1024;
const FIELDS = ['id', 'kind', 'fromVersion', 'toVersion', 'startedAt', 'finishedAt', 'outcome', 'by', 'durationSeconds', 'detail', 'forced', 'forceReason', 'snapshotRestored', 'phases'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const VERSION = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const PHASE = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);

function text(o: Record<string, unknown>, field: string, opts: { max: number; nullable?: boolean; multiline?: boolean; required?: boolean }): string | null {
  const v = o[field];
  if (v === undefined && !opts.required) return null;
  if (v === null && opts.nullable) return null;
  if (typeof v !== 'string') throw new UpdateRecordInvalid(field, `must be a string${opts.nullable ? ' or null' : ''}, got ${v === undefined ? 'nothing (it is required)' : typeName(v)}`);
  if (v.includes('\u0000')) throw new UpdateRecordInvalid(field, 'contains a NUL byte');
  if (!isCleanText(v)) throw new UpdateRecordInvalid(field, v.isWellFormed() ? 'contains a control character' : 'contains invalid Unicode (a lone surrogate)');
  if (!opts.multiline && /[\n\r\t]/.test(v)) throw new UpdateRecordInvalid(field, 'must be one line');
  if (!v.trim()) throw new UpdateRecordInvalid(field, 'must not be empty');
  if (v.length > opts.max) throw new UpdateRecordInvalid(field, `must be at most ${opts.max} characters, got ${v.length}`);
  return v;
}

function oneOf<T extends string>(o: Record<string, unknown>, field: string, values: readonly T[]): T {
  const v = text(o, field, { max: 32, required: true })!;
  if (!(values as readonly string[]).includes(v)) throw new UpdateRecordInvalid(field, `must be one of ${values.join(', ')}, got "${v}"`);
  return v as T;
}

/** Date.parse would read 2026-02-30 as 2 March: the fields must be a real day and time. */
function onCalendar(v: string): boolean {
  const [y, mo, d, h, mi, se] = v.slice(0, 19).split(/[-T:]/).map(Number);
  const day = new Date(Date.UTC(y, mo - 1, d));
  return day.getUTCFullYear() === y && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d && h < 24 && mi < 60 && se < 60;
}

function time(o: Record<string, unknown>, field: string, nullable: boolean): string | null {
  const v = text(o, field, { max: 40, nullable, required: !nullable });
  if (v === null) return null;
  if (!ISO.test(v) || !onCalendar(v) || Number.isNaN(Date.parse(v))) throw new UpdateRecordInvalid(field, `must be an ISO 8601 time with a time zone (2026-12-01T17:30:00Z), got "${v}"`);
  return new Date(v).toISOString();
}

function bool(o: Record<string, unknown>, field: string): boolean {
  const v = o[field];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new UpdateRecordInvalid(field, `must be true or false, got ${typeName(v)}`);
  return v;
}

function seconds(v: unknown, field: string, nullable: boolean): number | null {
  if ((v === null || v === undefined) && nullable) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new UpdateRecordInvalid(field, `must be a number of seconds${nullable ? ' or null' : ''}, got ${typeof v === 'number' ? 'a number out of range' : typeName(v)}`);
  if (v < 0) throw new UpdateRecordInvalid(field, `must not be negative, got ${v}`);
  return v;
}

function phases(o: Record<string, unknown>): Record<string, number> {
  const v = o.phases;
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new UpdateRecordInvalid('phases', `must be an object of phase name → seconds, got ${typeName(v)}`);
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > 50) throw new UpdateRecordInvalid('phases', `must name at most 50 phases, got ${entries.length}`);
  const out: Record<string, number> = {};
  for (const [name, s] of entries) {
    if (!isCleanText(name) || !PHASE.test(name)) throw new UpdateRecordInvalid('phases', `phase names are letters, digits, "_" and "-" (at most 64), got ${JSON.stringify(name)}`);
    out[name] = seconds(s, `phases.${name}`, false)!;
  }
  return out;
}

/** Decodes, parses and checks the updater's JSON (bytes of a file or of stdin). */
export function parseUpdateRecord(bytes: Uint8Array): UpdateRecord {
  if (bytes.length === 0) throw new UpdateRecordInvalid(null, 'the update record is empty');
  if (bytes.length > MAX_RECORD_BYTES) throw new UpdateRecordInvalid(null, `the update record is larger than ${MAX_RECORD_BYTES} bytes`);
  let raw: string;
  try {
    raw = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new UpdateRecordInvalid(null, 'the update record is not valid UTF-8 text');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch (err) {
    throw new UpdateRecordInvalid(null, `the update record is not valid JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new UpdateRecordInvalid(null, `the update record must be a JSON object, got ${typeName(doc)}`);
  const o = doc as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!FIELDS.includes(key)) throw new UpdateRecordInvalid(isCleanText(key) ? key : '(a field name)', `is not a field of the update record (known: ${FIELDS.join(', ')})`);
  }
  const id = text(o, 'id', { max: 36, required: true })!;
  if (!UUID.test(id)) throw new UpdateRecordInvalid('id', `must be a UUID, got "${id}"`);
  const kind = oneOf(o, 'kind', UPDATE_KINDS);
  const version = (field: string) => {
    const v = text(o, field, { max: 64, required: true })!;
    if (!VERSION.test(v)) throw new UpdateRecordInvalid(field, `must be a version (letters, digits, ".", "+", "_", "-"), got "${v}"`);
    return v;
  };
  const fromVersion = version('fromVersion');
  const toVersion = version('toVersion');
  const startedAt = time(o, 'startedAt', false)!;
  const finishedAt = time(o, 'finishedAt', true);
  const outcome = oneOf(o, 'outcome', UPDATE_OUTCOMES);
  if (outcome === 'running' && finishedAt) throw new UpdateRecordInvalid('finishedAt', 'must be null while the outcome is "running"');
  if (outcome !== 'running' && !finishedAt) throw new UpdateRecordInvalid('finishedAt', `is required when the outcome is "${outcome}"`);
  if (finishedAt && Date.parse(finishedAt) < Date.parse(startedAt)) throw new UpdateRecordInvalid('finishedAt', 'is before startedAt');
  const by = text(o, 'by', { max: 128, required: true })!;
  const durationSeconds = seconds(o.durationSeconds, 'durationSeconds', true);
  const detail = text(o, 'detail', { max: 2000, nullable: true, multiline: true });
  const forced = bool(o, 'forced');
  const forceReason = text(o, 'forceReason', { max: 500, nullable: true, multiline: true });
  if (forced && !forceReason) throw new UpdateRecordInvalid('forceReason', 'is required when forced is true');
  const snapshotRestored = bool(o, 'snapshotRestored');
  return { id: id.toLowerCase(), kind, fromVersion, toVersion, startedAt, finishedAt, outcome, by, durationSeconds, detail, forced, forceReason, snapshotRestored, phases: phases(o) };
}
