// After an Art. 17 erasure: read what the audit log keeps about it (time, override, reason
// category, the decrypted reason while its key exists) and erase the free-text reason for good
// (its key is destroyed; the ledger file records that, so a restore re-applies it).
import { withScope } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import { notFound } from '../../core/errors.ts';
import type { Services } from '../../http/services.ts';
import { audit } from '../audit/audit.service.ts';
import { scope } from '../patients/patient.service.ts';
import { erasureAuditEntry } from './erasure.repository.ts';
import { openReason, reasonKey } from './erasure-reason.ts';
import { appendLedgerFile } from './ledger-file.ts';

export async function erasureRecord(services: Services, patientId: string) {
  const actor = authorize('gdpr.erase');
  return withScope(services.db, scope(actor), async (trx) => {
    const entry = await erasureAuditEntry(trx, patientId);
    if (!entry) throw notFound('Erasure');
    const sealed = typeof entry.details.reasonSealed === 'string' ? entry.details.reasonSealed : undefined;
    const reason = sealed ? await openReason(services.keys, trx, actor.organizationId, patientId, sealed) : null;
    await audit(trx, { action: 'patient.erasure_record.read', objectType: 'patient', objectId: patientId });
    return {
      patientId, erasedAt: entry.created_at, override: Boolean(entry.details.override),
      reasonCategory: (entry.details.reasonCategory as string | undefined) ?? null, reason, reasonErased: Boolean(sealed) && reason === null,
    };
  });
}

/** Destroys the key of the override reason: the audit entry keeps only the category. */
export async function eraseErasureReason(services: Services, patientId: string) {
  const actor = authorize('gdpr.erase');
  const erasedAt = await withScope(services.db, scope(actor), async (trx) => {
    const entry = await erasureAuditEntry(trx, patientId);
    if (!entry || typeof entry.details.reasonSealed !== 'string') throw notFound('Erasure reason');
    await services.keys.destroy(trx, reasonKey(actor.organizationId, patientId));
    await audit(trx, { action: 'patient.erasure_reason.erase', objectType: 'patient', objectId: patientId });
    return entry.created_at.toISOString();
  });
  await appendLedgerFile(services.config.dataDir, { organizationId: actor.organizationId, patientId, erasedAt, reasonErasedAt: new Date().toISOString() });
  return { reasonErased: true };
}
