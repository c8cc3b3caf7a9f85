// The timeline's queries: one per module table, each newest first before a cursor (time, id),
// limited. Row comparison (at, id) < (cursor) keeps paging stable when two lines share a time.
import type { Knex } from 'knex';
import type { Tx } from '../../db/connection.ts';
import type { TimelineCursor } from './timeline.registry.ts';

function page<T extends object>(trx: Tx, q: Knex.QueryBuilder, atExpr: string, idCol: string, before: TimelineCursor | null, limit: number): Promise<T[]> {
  if (before) q.whereRaw(`(${atExpr}, ${idCol}) < (?::timestamptz, ?::uuid)`, [before.at.toISOString(), before.id]);
  return q.orderByRaw(`${atExpr} desc, ${idCol} desc`).limit(limit) as unknown as Promise<T[]>;
}

export interface EntryRow { id: string; kind: string; supersedes_id: string | null; data: Buffer; created_by: string | null; created_at: Date; organization_id: string }
export function recordEntries(trx: Tx, patientId: string, kinds: readonly string[], before: TimelineCursor | null, limit: number) {
  const q = trx('record_entries').where({ patient_id: patientId }).whereIn('kind', kinds as string[])
    .select('id', 'kind', 'supersedes_id', 'data', 'created_by', 'created_at', 'organization_id');
  return page<EntryRow>(trx, q, 'created_at', 'id', before, limit);
}
export async function supersededAmong(trx: Tx, ids: string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows: { supersedes_id: string }[] = await trx('record_entries').whereIn('supersedes_id', ids).select('supersedes_id');
  return new Set(rows.map((r) => r.supersedes_id));
}

export interface DocumentRow { id: string; category: string; filename: Buffer | null; note: Buffer | null; created_by: string | null; created_at: Date; removed_at: Date | null }
export function documents(trx: Tx, patientId: string, withRemoved: boolean, before: TimelineCursor | null, limit: number) {
  const q = trx('documents').where({ patient_id: patientId }).select('id', 'category', 'filename', 'note', 'created_by', 'created_at', 'removed_at');
  if (!withRemoved) q.whereNull('removed_at');
  return page<DocumentRow>(trx, q, 'created_at', 'id', before, limit);
}

export interface ConsentRow { id: string; purpose: string; action: string; note: Buffer | null; recorded_by: string | null; recorded_at: Date }
export function consents(trx: Tx, patientId: string, before: TimelineCursor | null, limit: number) {
  const q = trx('consents').where({ patient_id: patientId }).select('id', 'purpose', 'action', 'note', 'recorded_by', 'recorded_at');
  return page<ConsentRow>(trx, q, 'recorded_at', 'id', before, limit);
}

export interface AppointmentRow { id: string; starts_at: Date; status: string; notes: Buffer | null; type_de: string | null; type_en: string | null; created_by: string | null }
export function appointments(trx: Tx, patientId: string, before: TimelineCursor | null, limit: number) {
  const q = trx('appointments as a').leftJoin('appointment_types as t', 't.id', 'a.type_id').where('a.patient_id', patientId)
    .select('a.id', 'a.starts_at', 'a.status', 'a.notes', 't.name_de as type_de', 't.name_en as type_en', 'a.created_by');
  return page<AppointmentRow>(trx, q, 'a.starts_at', 'a.id', before, limit);
}

export interface MessageRow { id: string; purpose: string; channel: string; status: string; created_by: string | null; created_at: Date }
export function messages(trx: Tx, patientId: string, before: TimelineCursor | null, limit: number) {
  const q = trx('outbox_messages').where({ patient_id: patientId }).select('id', 'purpose', 'channel', 'status', 'created_by', 'created_at');
  return page<MessageRow>(trx, q, 'created_at', 'id', before, limit);
}

export interface StepRow { id: string; due_date: string; status: string; title: Buffer; updated_by: string | null; at: Date }
export function aftercareSteps(trx: Tx, patientId: string, before: TimelineCursor | null, limit: number) {
  const at = `(s.due_date::timestamp at time zone 'UTC')`;
  const q = trx('aftercare_steps as s').where('s.patient_id', patientId)
    .select('s.id', trx.raw(`to_char(s.due_date, 'YYYY-MM-DD') as due_date`), 's.status', 's.title', 's.updated_by', trx.raw(`${at} as at`));
  return page<StepRow>(trx, q, at, 's.id', before, limit);
}

export interface InboundRow { id: string; kind: string; content: Buffer; received_at: Date }
export function inboundMessages(trx: Tx, patientId: string, before: TimelineCursor | null, limit: number) {
  const q = trx('inbound_messages').where({ patient_id: patientId }).select('id', 'kind', 'content', 'received_at');
  return page<InboundRow>(trx, q, 'received_at', 'id', before, limit);
}
