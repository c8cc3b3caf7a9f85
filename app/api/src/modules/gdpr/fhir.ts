// The export as a FHIR R4 Bundle (type "collection"): Patient, Condition, QuestionnaireResponse,
// Procedure, CarePlan, Consent, DocumentReference. Current versions only; the JSON export keeps
// every version. Pure function over the JSON export.
import type { PatientExport } from './export.service.ts';

type R = Record<string, unknown>;
type Entry = R & { id: string; kind: string; data: R; createdAt: string; supersedesId: string | null };

const urn = (id: string) => `urn:uuid:${id}`;
const GENDER: Record<string, string> = { female: 'female', male: 'male', diverse: 'other', unknown: 'unknown' };
const VERIFICATION: Record<string, string> = { G: 'confirmed', V: 'provisional', Z: 'confirmed', A: 'refuted' };
const PLAN_STATUS: Record<string, string> = { draft: 'draft', proposed: 'draft', accepted: 'active', in_progress: 'active', completed: 'completed', cancelled: 'revoked' };

function patientResource(p: R): R {
  const m = p.data as R;
  const address = m.address as R | undefined;
  const telecom = [
    m.phone && { system: 'phone', value: m.phone, use: 'mobile' },
    m.whatsapp && { system: 'other', value: m.whatsapp, use: 'mobile', extension: [{ url: 'urn:praxiskern:telecom-channel', valueString: 'whatsapp' }] },
    m.email && { system: 'email', value: m.email },
  ].filter(Boolean);
  // German base profile identifiers: KVNR (GKV) / private insurance number, and the practice's own number.
  const identifier = [
    m.insuranceNumber && m.insuranceType === 'statutory' && { use: 'official', type: { coding: [{ system: 'http://fhir.de/CodeSystem/identifier-type-de-basis', code: 'KVZ10' }] }, system: 'http://fhir.de/sid/gkv/kvid-10', value: m.insuranceNumber, ...(m.insurer ? { assigner: { display: m.insurer } } : {}) },
    m.insuranceNumber && m.insuranceType === 'private' && { use: 'secondary', type: { coding: [{ system: 'http://fhir.de/CodeSystem/identifier-type-de-basis', code: 'PKV' }] }, value: m.insuranceNumber, ...(m.insurer ? { assigner: { display: m.insurer } } : {}) },
    m.patientNumber && { use: 'usual', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, system: 'urn:praxiskern:patient-number', value: m.patientNumber },
  ].filter(Boolean);
  const extension = [
    m.insuranceType && { url: 'urn:praxiskern:insurance-type', valueCode: m.insuranceType },
    m.preferredChannel && { url: 'urn:praxiskern:preferred-channel', valueCode: m.preferredChannel },
    m.salutation && { url: 'urn:praxiskern:salutation', valueCode: m.salutation },
  ].filter(Boolean);
  return {
    resourceType: 'Patient', id: p.id,
    meta: { lastUpdated: p.updatedAt },
    ...(identifier.length ? { identifier } : {}),
    ...(extension.length ? { extension } : {}),
    name: [{ use: 'official', family: m.familyName, given: [m.givenName], ...(m.title ? { prefix: [m.title] } : {}) }],
    gender: GENDER[String(m.sex)] ?? 'unknown',
    birthDate: m.birthDate,
    ...(telecom.length ? { telecom } : {}),
    ...(address ? { address: [{ line: [address.street], postalCode: address.postalCode, city: address.city, country: address.country ?? m.country }] } : {}),
    ...(m.language ? { communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: m.language }] } }] } : {}),
  };
}

function answerValues(v: unknown): R[] {
  if (Array.isArray(v)) return v.map((x) => ({ valueString: String(x) }));
  if (typeof v === 'boolean') return [{ valueBoolean: v }];
  if (typeof v === 'number') return [{ valueDecimal: v }];
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) return [{ valueDate: v }];
  return [{ valueString: String(v) }];
}

function entryResource(e: Entry, subject: R): R {
  const d = e.data;
  switch (e.kind) {
    case 'diagnosis':
      return {
        resourceType: 'Condition', id: e.id, subject, recordedDate: e.createdAt,
        verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: VERIFICATION[String(d.certainty)] ?? 'unconfirmed' }] },
        code: { coding: [{ system: 'http://fhir.de/CodeSystem/bfarm/icd-10-gm', code: d.code, display: d.text }], text: d.text },
        ...(d.diagnosedOn ? { onsetDateTime: d.diagnosedOn } : {}),
      };
    case 'anamnesis': {
      const q = d.questionnaire as R;
      const pq = d.prequalification as R;
      return {
        resourceType: 'QuestionnaireResponse', id: e.id, subject, status: 'completed', authored: e.createdAt,
        questionnaire: `urn:praxiskern:questionnaire:${q.key}|${q.version}`,
        item: [
          ...Object.entries(d.answers as R).map(([k, v]) => ({ linkId: k, answer: answerValues(v) })),
          { linkId: 'prequalification_status', answer: [{ valueString: pq.status }] },
          // scores as computed when the answers were given (docs/questionnaires.md)
          ...((d.scores as R[] | undefined) ?? []).map((sc) => ({
            linkId: `score:${sc.key}`, text: (sc.label as R).de,
            ...(sc.value === null ? {} : { answer: [{ valueDecimal: sc.value }, ...(sc.band ? [{ valueString: (sc.band as R).de }] : [])] }),
          })),
        ],
      };
    }
    case 'treatment':
      return {
        resourceType: 'Procedure', id: e.id, subject, status: 'completed', code: { text: d.type }, performedDateTime: d.performedOn,
        note: [{ text: d.description }], ...(d.performedBy ? { performer: [{ actor: { display: d.performedBy } }] } : {}),
      };
    case 'note':
      return {
        resourceType: 'Observation', id: e.id, subject, status: 'final', issued: e.createdAt,
        code: { coding: [{ system: 'urn:praxiskern:note-category', code: d.category }] }, valueString: d.text,
      };
    default:
      return {
        resourceType: 'CarePlan', id: e.id, subject, status: PLAN_STATUS[String(d.status)] ?? 'unknown', intent: 'plan', title: d.title, created: e.createdAt,
        ...(d.notes ? { description: d.notes } : {}),
        ...(d.plannedFor ? { period: { start: d.plannedFor } } : {}),
        activity: ((d.steps as R[]) ?? []).map((s) => ({ detail: { status: 'not-started', description: s.description, ...(s.due ? { scheduledString: s.due } : {}) } })),
      };
  }
}

/** Praxiskern's appointment statuses as FHIR R4 Appointment.status. */
const APPOINTMENT_STATUS: Record<string, string> = {
  planned: 'booked', confirmed: 'booked', arrived: 'arrived', in_treatment: 'checked-in', done: 'fulfilled', no_show: 'noshow', cancelled: 'cancelled',
};

export function toFhirBundle(x: PatientExport): R {
  const patientId = String(x.patient.id);
  const subject = { reference: urn(patientId) };
  const entries = x.recordEntries as unknown as Entry[];
  const superseded = new Set(entries.map((e) => e.supersedesId).filter(Boolean));
  const resources: R[] = [patientResource(x.patient)];
  for (const e of entries) if (!superseded.has(e.id)) resources.push(entryResource(e, subject));
  for (const c of x.consents) {
    resources.push({
      resourceType: 'Consent', id: c.id, status: c.action === 'granted' ? 'active' : 'inactive', patient: subject, dateTime: c.recordedAt,
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'urn:praxiskern:consent-purpose', code: c.purpose }] }],
      policy: [{ uri: `urn:praxiskern:consent-text:${c.purpose}:${c.textVersion}` }],
      provision: { type: c.action === 'granted' ? 'permit' : 'deny' },
      sourceAttachment: { title: `channel: ${c.channel}` },
    });
  }
  for (const d of x.documents as R[]) {
    resources.push({
      resourceType: 'DocumentReference', id: d.id, status: d.removedAt ? 'entered-in-error' : 'current', subject, date: d.createdAt,
      type: { coding: [{ system: 'urn:praxiskern:document-category', code: d.category }] },
      content: [{ attachment: { contentType: d.contentType, size: d.sizeBytes, data: d.contentBase64, ...(d.filename ? { title: d.filename } : {}) } }],
    });
  }
  for (const a of x.appointments as R[]) {
    resources.push({
      resourceType: 'Appointment', id: a.id, status: APPOINTMENT_STATUS[String(a.status)] ?? 'booked', start: a.startsAt, end: a.endsAt, created: a.createdAt,
      appointmentType: { coding: [{ system: 'urn:praxiskern:appointment-type', code: a.typeId }] },
      participant: [{ actor: subject, status: 'accepted' }],
      ...(a.notes ? { comment: a.notes } : {}),
      ...(a.cancelReason ? { cancelationReason: { text: a.cancelReason } } : {}),
    });
  }
  return {
    resourceType: 'Bundle', type: 'collection', timestamp: x.exportedAt,
    entry: resources.map((r) => ({ fullUrl: urn(String(r.id)), resource: r })),
  };
}
