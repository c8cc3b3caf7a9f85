// Consent log: append-only, per purpose. hasConsent() is the one check other modules call.
import { withScope, type Tx } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import type { Services } from '../../http/services.ts';
import { audit, auditRead } from '../audit/audit.service.ts';
import { openText, patientKey, sealText } from '../patients/patient.crypto.ts';
import { requirePatient } from '../patients/patient.guard.ts';
import { scope } from '../patients/patient.service.ts';
import * as repo from './consent.repository.ts';
import { PURPOSES, type Purpose } from './consent.schema.ts';

/** True when the newest entry for the purpose is "granted" (no entry means no consent). */
export async function hasConsent(trx: Tx, patientId: string, purpose: Purpose): Promise<boolean> {
  return (await repo.latestConsent(trx, patientId, purpose))?.action === 'granted';
}

export const consentNoteField = (id: string) => `consent_note:${id}`;

export async function consentView(services: Services, trx: Tx, r: repo.ConsentRow) {
  return {
    id: r.id, purpose: r.purpose, action: r.action, textVersion: r.text_version, channel: r.channel,
    note: await openText(services.keys, trx, patientKey(r.organization_id, r.patient_id), consentNoteField(r.id), r.note),
    recordedBy: r.recorded_by, recordedAt: r.recorded_at,
  };
}

export async function listConsents(services: Services, patientId: string) {
  const actor = authorize('consent.read');
  return withScope(services.db, scope(actor), async (trx) => {
    await requirePatient(trx, patientId);
    const log = [];
    for (const r of await repo.listConsents(trx, patientId)) log.push(await consentView(services, trx, r));
    const current: Record<string, boolean> = {};
    for (const p of PURPOSES) current[p] = false;
    for (const e of log) current[e.purpose] = e.action === 'granted';
    await auditRead(trx, 'consent', patientId);
    return { current, log };
  });
}

/** Recording is allowed while the record is restricted: a withdrawal must always be possible. */
export async function recordConsent(services: Services, patientId: string, input: { purpose: Purpose; action: 'granted' | 'withdrawn'; textVersion: string; channel: string; note?: string }) {
  const actor = authorize('consent.write');
  return withScope(services.db, scope(actor), async (trx) => {
    await requirePatient(trx, patientId, true);
    const id = crypto.randomUUID();
    const note = await sealText(services.keys, trx, patientKey(actor.organizationId, patientId), consentNoteField(id), input.note);
    const row = await repo.insertConsent(trx, {
      id, organization_id: actor.organizationId, patient_id: patientId, purpose: input.purpose, action: input.action,
      text_version: input.textVersion, channel: input.channel, note, recorded_by: actor.userId,
    } as repo.ConsentRow);
    // Ids and the fixed purpose only: textVersion is typed by a user (free text), so it stays in the
    // consent row, which an Art. 17 erasure removes, and never enters the append-only audit log.
    await audit(trx, { action: `consent.${input.action}`, objectType: 'patient', objectId: patientId, details: { purpose: input.purpose, consentId: id } });
    return consentView(services, trx, row);
  });
}
