// Documents and photos: content-sniffed, metadata stripped, encrypted with the patient's key into
// the blob store. A failed database write removes the blob again, so nothing is half-stored.
import { randomUUID } from 'node:crypto';
import { withScope, type Tx } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import { can } from '../../core/permissions.ts';
import { AppError, notFound, validation } from '../../core/errors.ts';
import type { Services } from '../../http/services.ts';
import { audit, auditRead } from '../audit/audit.service.ts';
import { open, seal } from '../keystore/keystore.crypto.ts';
import { openText, patientKey, sealText } from '../patients/patient.crypto.ts';
import { requirePatient, requireWritable } from '../patients/patient.guard.ts';
import { scope } from '../patients/patient.service.ts';
import { deleteBlob, newBlobId, readBlob, writeBlob } from './blob.repository.ts';
import * as repo from './document.repository.ts';
import { ALLOWED, describe, detectType, extensionOf } from './file-type.ts';
import { EmptyImage, MalformedImage, stripMetadata } from './metadata-strip.ts';

export interface Upload {
  filename: string | undefined;
  data: Buffer;
  category: repo.Category;
  note?: string;
}

export const blobAad = (r: { organization_id: string; patient_id: string; blob_id: string }) => `praxiskern:blob:v1:${r.organization_id}:${r.patient_id}:${r.blob_id}`;
const filenameField = (id: string) => `document_filename:${id}`;
const noteField = (id: string) => `document_note:${id}`;
/** The reason of a removal or restoration, encrypted with the patient's key (erased with the patient). */
export const documentEventReasonField = (eventId: string) => `document_event_reason:${eventId}`;

export async function documentView(services: Services, trx: Tx, r: repo.DocumentRow) {
  const ref = patientKey(r.organization_id, r.patient_id);
  return {
    id: r.id, category: r.category, contentType: r.content_type, sizeBytes: r.size_bytes,
    filename: await openText(services.keys, trx, ref, filenameField(r.id), r.filename),
    note: await openText(services.keys, trx, ref, noteField(r.id), r.note),
    metadataRemoved: r.metadata_removed, createdBy: r.created_by, createdAt: r.created_at,
    removedAt: r.removed_at, removedBy: r.removed_by,
    contentUrl: `/api/v1/patients/${r.patient_id}/documents/${r.id}/content`,
  };
}

function sniff(data: Buffer) {
  if (data.length === 0) throw validation('file', 'is empty');
  const type = detectType(data);
  if (!type) throw new AppError(415, 'unsupported_media_type', `file: content is ${describe(data)}; allowed are JPEG, PNG, WebP and PDF`, [{ field: 'file', message: `content is ${describe(data)}, not ${ALLOWED.join(', ')}` }]);
  try {
    return { type, ...stripMetadata(type, data) };
  } catch (err) {
    if (err instanceof MalformedImage) throw new AppError(415, 'unsupported_media_type', `file: ${err.message}`, [{ field: 'file', message: err.message }]);
    if (err instanceof EmptyImage) throw validation('file', err.message);
    throw err;
  }
}

export async function uploadDocument(services: Services, patientId: string, up: Upload) {
  const actor = authorize('documents.write');
  const clean = sniff(up.data);
  const blobId = newBlobId();
  let written = false;
  try {
    return await withScope(services.db, scope(actor), async (trx) => {
      await requireWritable(trx, patientId);
      const id = randomUUID();
      const ref = patientKey(actor.organizationId, patientId);
      const key = await services.keys.blobKey(trx, ref);
      await writeBlob(services.config.dataDir, blobId, seal(key, clean.data, blobAad({ organization_id: actor.organizationId, patient_id: patientId, blob_id: blobId })));
      written = true;
      const row = await repo.insertDocument(trx, {
        id, organization_id: actor.organizationId, patient_id: patientId, category: up.category, content_type: clean.type,
        size_bytes: clean.data.length, blob_id: blobId, metadata_removed: clean.removed, created_by: actor.userId,
        filename: await sealText(services.keys, trx, ref, filenameField(id), up.filename?.slice(0, 255) || null),
        note: await sealText(services.keys, trx, ref, noteField(id), up.note),
      });
      await audit(trx, { action: 'document.upload', objectType: 'patient', objectId: patientId, details: { documentId: id, category: up.category, contentType: clean.type, metadataRemoved: clean.removed } });
      return documentView(services, trx, row);
    });
  } catch (err) {
    if (written) await deleteBlob(services.config.dataDir, blobId);
    throw err;
  }
}

export async function listDocuments(services: Services, patientId: string) {
  const actor = authorize('documents.read');
  return withScope(services.db, scope(actor), async (trx) => {
    await requirePatient(trx, patientId);
    const documents = [];
    for (const r of await repo.listDocuments(trx, patientId)) documents.push(await documentView(services, trx, r));
    await auditRead(trx, 'document', patientId, { part: 'list', count: documents.length });
    return { documents };
  });
}

/**
 * Decrypts a document for the viewer or a download; both are audited. A removed document is
 * there only for roles with documents.removed; to everyone else it does not exist.
 */
export async function readDocument(services: Services, patientId: string, documentId: string, mode: 'view' | 'download') {
  const actor = authorize('documents.read');
  return withScope(services.db, scope(actor), async (trx) => {
    await requirePatient(trx, patientId);
    const r = await repo.findDocument(trx, patientId, documentId);
    if (!r || (r.removed_at && !can(actor.roles, 'documents.removed'))) throw notFound('Document');
    const key = await services.keys.blobKey(trx, patientKey(r.organization_id, patientId));
    const data = open(key, await readBlob(services.config.dataDir, r.blob_id), blobAad(r));
    await audit(trx, { action: `document.${mode}`, objectType: 'patient', objectId: patientId, details: { documentId } });
    return { data, contentType: r.content_type, downloadName: `${r.category}-${r.id.slice(0, 8)}.${extensionOf[r.content_type as keyof typeof extensionOf]}` };
  });
}
