import type { Tx } from '../../db/connection.ts';
import type { Kind } from './record.schema.ts';

export interface EntryRow {
  id: string;
  organization_id: string;
  patient_id: string;
  kind: Kind;
  questionnaire_id: string | null;
  supersedes_id: string | null;
  data: Buffer;
  created_by: string | null;
  created_at: Date;
  /** Anamnesis only: the pre-qualification outcome as a plain flag for reports (docs/reports.md). */
  prequal_status?: 'qualified' | 'needs_review' | 'not_qualified' | null;
}

export async function insertEntry(trx: Tx, row: Omit<EntryRow, 'created_at'>): Promise<EntryRow> {
  const [created] = await trx('record_entries').insert(row).returning('*');
  return created;
}

export async function listEntries(trx: Tx, patientId: string): Promise<EntryRow[]> {
  return trx('record_entries').where({ patient_id: patientId }).orderBy('created_at');
}

export async function findEntry(trx: Tx, id: string): Promise<EntryRow | undefined> {
  return trx('record_entries').where({ id }).first();
}

export async function findSuccessor(trx: Tx, id: string): Promise<{ id: string } | undefined> {
  return trx('record_entries').where({ supersedes_id: id }).first('id');
}

export async function bumpLastTreatment(trx: Tx, patientId: string, day: string): Promise<void> {
  await trx('patients')
    .where({ id: patientId })
    .update({ last_treatment_on: trx.raw('greatest(coalesce(last_treatment_on, ?::date), ?::date)', [day, day]), updated_at: trx.fn.now() });
}

export async function latestQuestionnaire(trx: Tx, key: string, version?: number) {
  const q = trx('questionnaires').where({ key });
  if (version) q.andWhere({ version });
  return q.orderBy('version', 'desc').first();
}

export async function findQuestionnaire(trx: Tx, id: string) {
  return trx('questionnaires').where({ id }).first();
}

export async function listLatestQuestionnaires(trx: Tx) {
  return trx('questionnaires').distinctOn('key').orderBy([{ column: 'key' }, { column: 'version', order: 'desc' }]);
}

export async function insertQuestionnaire(trx: Tx, row: { organization_id: string; key: string; version: number; title: string; definition: unknown; created_by: string | null }) {
  const [created] = await trx('questionnaires')
    .insert({ ...row, definition: JSON.stringify(row.definition) })
    .onConflict(['organization_id', 'key', 'version'])
    .ignore()
    .returning('*');
  return created;
}
