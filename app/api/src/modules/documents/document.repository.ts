import type { Tx } from '../../db/connection.ts';

export const CATEGORIES = ['front', 'side', 'donor_area', 'close_up', 'document', 'other'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface DocumentRow {
  id: string;
  organization_id: string;
  patient_id: string;
  category: Category;
  content_type: string;
  size_bytes: number;
  blob_id: string;
  filename: Buffer | null;
  note: Buffer | null;
  metadata_removed: string[];
  created_by: string | null;
  created_at: Date;
}

export async function insertDocument(trx: Tx, row: Omit<DocumentRow, 'created_at'>): Promise<DocumentRow> {
  const [created] = await trx('documents').insert(row).returning('*');
  return created;
}

export async function listDocuments(trx: Tx, patientId: string): Promise<DocumentRow[]> {
  return trx('documents').where({ patient_id: patientId }).orderBy('created_at');
}

export async function findDocument(trx: Tx, patientId: string, id: string): Promise<DocumentRow | undefined> {
  return trx('documents').where({ patient_id: patientId, id }).first();
}

export async function deleteDocumentRow(trx: Tx, id: string): Promise<void> {
  await trx('documents').where({ id }).delete();
}
