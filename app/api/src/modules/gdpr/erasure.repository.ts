// Hard delete at the database level. Deleting the patients row cascades to every patient table
// (the cascade runs as the table owner, so the append-only tables need no DELETE grant).
import type { Db, Tx } from '../../db/connection.ts';

/** The patient's blobs: documents and inbound WhatsApp media. */
export async function documentBlobIds(trx: Tx | Db, patientId: string): Promise<string[]> {
  const docs = (await trx('documents').where({ patient_id: patientId }).select('blob_id')).map((r: { blob_id: string }) => r.blob_id);
  const media = (await trx('inbound_messages').where({ patient_id: patientId }).whereNotNull('media_blob_id').select('media_blob_id')).map((r: { media_blob_id: string }) => r.media_blob_id);
  return [...docs, ...media];
}

export async function deletePatientRows(trx: Tx | Db, patientId: string): Promise<number> {
  return trx('patients').where({ id: patientId }).delete();
}

export async function insertLedger(trx: Tx | Db, organizationId: string, patientId: string, erasedAt?: string): Promise<void> {
  await trx('erasure_ledger')
    .insert({ organization_id: organizationId, patient_id: patientId, ...(erasedAt ? { erased_at: erasedAt } : {}) })
    .onConflict('patient_id')
    .ignore();
}

export async function allLedgerEntries(db: Db): Promise<{ organization_id: string; patient_id: string; erased_at: Date }[]> {
  return db('erasure_ledger').select('organization_id', 'patient_id', 'erased_at').orderBy('id');
}

/** Owner-side crypto-shredding for replay (the KeyStore needs the master key; this does not). */
export async function destroyPatientKey(db: Tx | Db, organizationId: string, patientId: string): Promise<void> {
  await destroyKey(db, { organizationId, scope: 'patient', scopeId: patientId });
}

export async function destroyKey(db: Tx | Db, ref: { organizationId: string; scope: string; scopeId: string }): Promise<void> {
  await db('data_keys')
    .where({ organization_id: ref.organizationId, scope: ref.scope, scope_id: ref.scopeId })
    .update({ wrapped_key: null, destroyed_at: db.raw('coalesce(destroyed_at, now())') });
}

/** The audit entry of a patient's erasure (ids, flags, the reason category, the sealed reason). */
export async function erasureAuditEntry(trx: Tx, patientId: string): Promise<{ created_at: Date; details: Record<string, unknown> } | undefined> {
  return trx('audit_log').where({ action: 'patient.erase', object_id: patientId }).first('created_at', 'details');
}

export async function referencedBlobIds(db: Db): Promise<Set<string>> {
  const docs = (await db('documents').select('blob_id')).map((r: { blob_id: string }) => r.blob_id);
  const media = (await db('inbound_messages').whereNotNull('media_blob_id').select('media_blob_id')).map((r: { media_blob_id: string }) => r.media_blob_id);
  return new Set([...docs, ...media]);
}
