// Removing a document or photo hides it; it is never destroyed here (§ 630f BGB: documents are
// retained like the record). Each removal and restoration is an event with who, when and why;
// the reason is encrypted with the patient's key, so the Art. 17 erasure takes it along. Only the
// Art. 17 path (gdpr/erasure.service.ts) deletes rows and blobs.
import { randomUUID } from 'node:crypto';
import { withScope, type Tx } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import { conflict, notFound } from '../../core/errors.ts';
import type { Actor } from '../../core/context.ts';
import type { Services } from '../../http/services.ts';
import { audit, auditRead } from '../audit/audit.service.ts';
import { openText, patientKey, sealText } from '../patients/patient.crypto.ts';
import { requirePatient, requireWritable } from '../patients/patient.guard.ts';
import { scope } from '../patients/patient.service.ts';
import * as repo from './document.repository.ts';
import { documentEventReasonField, documentView } from './document.service.ts';

async function recordEvent(services: Services, trx: Tx, actor: Actor, r: repo.DocumentRow, action: 'removed' | 'restored', reason: string | undefined) {
  const id = randomUUID();
  await repo.insertEvent(trx, {
    id, organization_id: r.organization_id, patient_id: r.patient_id, document_id: r.id, action, actor_user_id: actor.userId,
    reason: await sealText(services.keys, trx, patientKey(r.organization_id, r.patient_id), documentEventReasonField(id), reason),
  });
}

async function changeVisibility(services: Services, actor: Actor, patientId: string, documentId: string, action: 'removed' | 'restored', reason?: string) {
  return withScope(services.db, scope(actor), async (trx) => {
    await requireWritable(trx, patientId);
    const r = await repo.findDocument(trx, patientId, documentId);
    if (!r) throw notFound('Document');
    if (Boolean(r.removed_at) === (action === 'removed')) throw conflict(`The document is already ${action}`, { reason: `already_${action}` });
    await repo.setRemoved(trx, r.id, action === 'removed' ? actor.userId : null);
    await recordEvent(services, trx, actor, r, action, reason);
    // The audit entry holds ids only; the free-text reason is in document_events, encrypted.
    await audit(trx, { action: action === 'removed' ? 'document.remove' : 'document.restore', objectType: 'patient', objectId: patientId, details: { documentId } });
    return { document: await documentView(services, trx, (await repo.findDocument(trx, patientId, documentId))!) };
  });
}

/** Hides a document from the record; row, blob and metadata stay (documents.write: staff too). */
export async function removeDocument(services: Services, patientId: string, documentId: string, reason: string) {
  const actor = authorize('documents.write');
  return changeVisibility(services, actor, patientId, documentId, 'removed', reason);
}

/** Shows a removed document again (documents.removed). */
export async function restoreDocument(services: Services, patientId: string, documentId: string, reason?: string) {
  const actor = authorize('documents.removed');
  return changeVisibility(services, actor, patientId, documentId, 'restored', reason);
}

/** Removed documents with their history of removals and restorations (who, when, why). */
export async function listRemovedDocuments(services: Services, patientId: string) {
  const actor = authorize('documents.removed');
  return withScope(services.db, scope(actor), async (trx) => {
    await requirePatient(trx, patientId);
    const rows = await repo.listDocuments(trx, patientId, true);
    const events = await repo.listEvents(trx, rows.map((r) => r.id));
    const documents = [];
    for (const r of rows) {
      const history = [];
      for (const e of events.filter((x) => x.document_id === r.id)) {
        const reason = await openText(services.keys, trx, patientKey(r.organization_id, patientId), documentEventReasonField(e.id), e.reason);
        history.push({ action: e.action, at: e.at, by: e.actor_user_id, reason });
      }
      documents.push({ ...(await documentView(services, trx, r)), history });
    }
    await auditRead(trx, 'document', patientId, { part: 'removed', count: documents.length });
    return { documents };
  });
}
