import type { Tx } from '../../db/connection.ts';

export interface ConsentRow {
  id: string;
  organization_id: string;
  patient_id: string;
  purpose: string;
  action: 'granted' | 'withdrawn';
  text_version: string;
  channel: string;
  note: Buffer | null;
  recorded_by: string | null;
  recorded_at: Date;
}

export async function insertConsent(trx: Tx, row: Omit<ConsentRow, 'id' | 'recorded_at'>): Promise<ConsentRow> {
  const [created] = await trx('consents').insert(row).returning('*');
  return created;
}

export async function listConsents(trx: Tx, patientId: string): Promise<ConsentRow[]> {
  return trx('consents').where({ patient_id: patientId }).orderBy([{ column: 'recorded_at' }, { column: 'id' }]);
}

export async function latestConsent(trx: Tx, patientId: string, purpose: string): Promise<ConsentRow | undefined> {
  return trx('consents').where({ patient_id: patientId, purpose }).orderBy([{ column: 'recorded_at', order: 'desc' }, { column: 'id', order: 'desc' }]).first();
}
