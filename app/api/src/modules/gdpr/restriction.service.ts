// Art. 18 restriction (the record becomes read-only; see patient.guard.ts) and the Art. 21
// objection switch. automatedProcessingAllowed() is the one check reminders and AI call.
import { withScope, type Tx } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import type { Services } from '../../http/services.ts';
import { audit } from '../audit/audit.service.ts';
import { patientKey, sealText } from '../patients/patient.crypto.ts';
import { requirePatient } from '../patients/patient.guard.ts';
import { updatePatientRow, findPatient } from '../patients/patient.repository.ts';
import { scope } from '../patients/patient.service.ts';

/** False when the patient objected (Art. 21), is restricted (Art. 18), anonymized or gone. */
export async function automatedProcessingAllowed(trx: Tx, patientId: string): Promise<boolean> {
  const row = await findPatient(trx, patientId);
  return Boolean(row && !row.anonymized_at && !row.objected_at && !row.restricted_at);
}

export async function setRestriction(services: Services, patientId: string, input: { restricted: boolean; reason?: string }) {
  const actor = authorize('gdpr.restrict');
  return withScope(services.db, scope(actor), async (trx) => {
    const row = await requirePatient(trx, patientId, true);
    const reason = input.restricted ? await sealText(services.keys, trx, patientKey(row.organization_id, patientId), 'restriction_reason', input.reason) : null;
    await updatePatientRow(trx, patientId, { restricted_at: input.restricted ? (row.restricted_at ?? new Date()) : null, restriction_reason: reason });
    await audit(trx, { action: input.restricted ? 'patient.restrict' : 'patient.restriction_lifted', objectType: 'patient', objectId: patientId });
    const after = await requirePatient(trx, patientId);
    return { restricted: Boolean(after.restricted_at), restrictedAt: after.restricted_at };
  });
}

export async function setObjection(services: Services, patientId: string, input: { objected: boolean }) {
  const actor = authorize('gdpr.restrict');
  return withScope(services.db, scope(actor), async (trx) => {
    const row = await requirePatient(trx, patientId, true);
    await updatePatientRow(trx, patientId, { objected_at: input.objected ? (row.objected_at ?? new Date()) : null });
    await audit(trx, { action: input.objected ? 'patient.objection' : 'patient.objection_withdrawn', objectType: 'patient', objectId: patientId });
    const after = await requirePatient(trx, patientId);
    return { objection: Boolean(after.objected_at), objectedAt: after.objected_at, automatedProcessingAllowed: await automatedProcessingAllowed(trx, patientId) };
  });
}
