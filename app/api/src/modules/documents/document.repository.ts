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
  removed_at: Date | null;
  removed_by: string | null;
}

export interface DocumentEventRow {
  id: string;
  organization_id: string;
  patient_id: string;
  document_id: string;
  action: 'removed' | 'restored';
  reason: Buffer | null;
  actor_user_id: string | null;
  at: Date;
}

export async function insertDocument(trx: Tx, row: Omit<DocumentRow, 'created_at' | 'removed_at' | 'removed_by'>): Promise<DocumentRow> {
  const [created] = await trx('documents').insert(row).returning('*');
  return created;
}

/** The patient's documents that are shown (removed: false) or hidden (removed: true). */
export async function listDocuments(trx: Tx, patientId: string, removed = false): Promise<DocumentRow[]> {
  const q = trx('documents').where({ patient_id: patientId });
  return (removed ? q.whereNotNull('removed_at') : q.whereNull('removed_at')).orderBy('created_at');
}

export async function findDocument(trx: Tx, patientId: string, id: string): Promise<DocumentRow | undefined> {
  return trx('documents').where({ patient_id: patientId, id }).first();
}

/** Hides (removedBy set) or shows again (null) a document; the row and its blob stay. */
export async function setRemoved(trx: Tx, id: string, removedBy: string | null): Promise<void> {
  await trx('documents').where({ id }).update({ removed_at: removedBy ? trx.fn.now() : null, removed_by: removedBy });
}

export async function insertEvent(trx: Tx, row: Omit<DocumentEventRow, 'at'>): Promise<void> {
  await trx('document_events').insert(row);
}

export async function listEvents(trx: Tx, documentIds: string[]): Promise<DocumentEventRow[]> {
  return documentIds.length ? trx('document_events').whereIn('document_id', documentIds).orderBy('at') : [];
}
