// Art. 15/20 export: everything stored about a patient as documented JSON (docs/patients.md)
// or as a FHIR R4 Bundle. Document contents are included in base64.
import { withScope, type Tx } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import type { Services } from '../../http/services.ts';
import { audit } from '../audit/audit.service.ts';
import { open } from '../keystore/keystore.crypto.ts';
import { openJson, openText, patientKey } from '../patients/patient.crypto.ts';
import { requirePatient } from '../patients/patient.guard.ts';
import { scope } from '../patients/patient.service.ts';
import { readBlob } from '../documents/blob.repository.ts';
import { readMedia } from '../messaging/media.fetcher.ts';
import { blobAad, documentEventReasonField } from '../documents/document.service.ts';
import { consentNoteField } from '../consent/consent.service.ts';
import { entryField } from '../records/record.service.ts';
import { cancelReasonField, notesField } from '../appointments/appointment.service.ts';
import { planTitleField, stepTitleField } from '../aftercare/aftercare.service.ts';
import { descriptionsField } from '../finance/finance.service.ts';
import { travelField } from '../travel/travel.service.ts';
import { exportRow } from './export.rows.ts';
import { draftField } from '../ai/ai.service.ts';
import { patientAudit, patientRows, questionnairesById } from './gdpr.repository.ts';
import { toFhirBundle } from './fhir.ts';

export const EXPORT_FORMAT = 'praxiskern.patient-export';
export const EXPORT_FORMAT_VERSION = 1;

async function buildExport(services: Services, trx: Tx, organizationId: string, patientId: string) {
  const ref = patientKey(organizationId, patientId);
  const text = (field: (r: Record<string, unknown>) => string) => (b: Buffer, r: Record<string, unknown>) => openText(services.keys, trx, ref, field(r), b);
  const json = (field: (r: Record<string, unknown>) => string) => (b: Buffer, r: Record<string, unknown>) => openJson(services.keys, trx, ref, field(r), b);
  const rows = await patientRows(trx, patientId);
  const key = await services.keys.blobKey(trx, ref);
  const documents = [];
  for (const d of rows.documents) {
    const row = await exportRow(d, { filename: text((r) => `document_filename:${r.id}`), note: text((r) => `document_note:${r.id}`) });
    const content = open(key, await readBlob(services.config.dataDir, String(d.blob_id)), blobAad(d as never));
    documents.push({ ...row, contentBase64: content.toString('base64') });
  }
  // inbound WhatsApp media are included like documents (decrypted, base64)
  const inboundMessages = [];
  for (const m of rows.inboundMessages) {
    const row = await exportRow(m, { content: json((r) => `inbound:${r.id}`) });
    const media = m.media_blob_id ? await readMedia(services, trx, m as never) : null;
    inboundMessages.push({ ...row, ...(media ? { mediaContentBase64: media.toString('base64') } : {}) });
  }
  const map = async (list: Record<string, unknown>[], dec: Parameters<typeof exportRow>[1]) => Promise.all(list.map((r) => exportRow(r, dec)));
  return {
    format: EXPORT_FORMAT,
    formatVersion: EXPORT_FORMAT_VERSION,
    exportedAt: new Date().toISOString(),
    patient: await exportRow(rows.patient!, { data: json(() => 'master'), restriction_reason: text(() => 'restriction_reason') }),
    masterDataHistory: await map(rows.versions, { data: json(() => 'master'), reason: text((r) => `version_reason:${r.version}`) }),
    recordEntries: await map(rows.entries, { data: json((r) => entryField(r as { kind: string; id: string })) }),
    questionnaires: await map(await questionnairesById(trx, [...new Set(rows.entries.map((e) => e.questionnaire_id as string).filter(Boolean))]), {}),
    consents: await map(rows.consents, { note: text((r) => consentNoteField(String(r.id))) }),
    documents,
    documentEvents: await map(rows.documentEvents, { reason: text((r) => documentEventReasonField(String(r.id))) }),
    appointments: await map(rows.appointments, { notes: text((r) => notesField(String(r.id))), cancel_reason: text((r) => cancelReasonField(String(r.id))) }),
    messages: await map(rows.messages, { variables: json((r) => `outbox_variables:${r.id}`) }),
    inboundMessages,
    aftercarePlans: await map(rows.aftercarePlans, { title: json((r) => planTitleField(String(r.id))) }),
    aftercareSteps: await map(rows.aftercareSteps, { title: json((r) => stepTitleField(String(r.id))) }),
    conversations: await map(rows.conversations, {}),
    quotes: await map(rows.quotes, { descriptions: json((r) => descriptionsField(String(r.id))) }),
    quoteItems: await map(rows.quoteItems, {}),
    deposits: await map(rows.deposits, {}),
    payments: await map(rows.payments, {}),
    refunds: await map(rows.refunds, {}),
    stripeCheckouts: await map(rows.stripeCheckouts, {}),
    travelFlights: await map(rows.travelFlights, { data: json((r) => travelField('travel_flights', String(r.id))) }),
    travelHotels: await map(rows.travelHotels, { data: json((r) => travelField('travel_hotels', String(r.id))) }),
    travelTransfers: await map(rows.travelTransfers, { data: json((r) => travelField('travel_transfers', String(r.id))) }),
    // Disclosures to Anthropic (recipient, date, task, categories of data sent; docs/ai.md)
    aiDisclosures: (await map(rows.aiRequests, {})).map((r) => ({ recipient: 'Anthropic PBC', ...r })),
    aiDrafts: await map(rows.aiDrafts, { data: json((r) => draftField(String(r.id))) }),
    auditTrail: await map(await patientAudit(trx, patientId), {}),
  };
}
export type PatientExport = Awaited<ReturnType<typeof buildExport>>;

export async function exportPatient(services: Services, patientId: string, format: 'json' | 'fhir') {
  const actor = authorize('gdpr.export');
  return withScope(services.db, scope(actor), async (trx) => {
    await requirePatient(trx, patientId);
    await audit(trx, { action: 'patient.export', objectType: 'patient', objectId: patientId, details: { format } });
    const data = await buildExport(services, trx, actor.organizationId, patientId);
    return format === 'fhir' ? toFhirBundle(data) : data;
  });
}

export async function accessLog(services: Services, patientId: string, limit: number) {
  const actor = authorize('patients.access_log');
  return withScope(services.db, scope(actor), async (trx) => {
    await requirePatient(trx, patientId);
    const entries = (await patientAudit(trx, patientId, limit, 'desc')).map((r) => ({
      at: r.created_at, userId: r.actor_user_id, action: r.action, outcome: r.outcome, ip: r.ip, userAgent: r.user_agent, requestId: r.request_id,
    }));
    await audit(trx, { action: 'patient.access_log.read', objectType: 'patient_access_log', objectId: patientId });
    return { entries };
  });
}
