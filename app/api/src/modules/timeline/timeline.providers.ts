// One timeline provider per module (records, documents, consent, appointments, messaging, inbox,
// aftercare), registered when this file is imported. Each decrypts only the page it returns.
import { openJson, openText, patientKey } from '../patients/patient.crypto.ts';
import { entryField } from '../records/record.service.ts';
import { consentNoteField } from '../consent/consent.service.ts';
import { notesField } from '../appointments/appointment.service.ts';
import { stepTitleField } from '../aftercare/aftercare.service.ts';
import { item, registerTimelineProvider, type TimelineItem, type TimelineProvider, type TimelineType } from './timeline.registry.ts';
import * as repo from './timeline.repository.ts';

type R = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' && v ? v : null);

/** What one record entry shows: code, status and text per kind. */
function entryLine(kind: string, d: R): Pick<TimelineItem, 'code' | 'status' | 'text' | 'detail'> {
  switch (kind) {
    case 'diagnosis': return { code: str(d.code), status: str(d.certainty), text: str(d.text), detail: str(d.side) };
    case 'treatment': return { code: null, status: null, text: str(d.type), detail: str(d.description) };
    case 'plan': return { code: null, status: str(d.status), text: str(d.title), detail: str(d.notes) };
    // An accepted AI draft item keeps its marker: status 'ai_assisted', the model as detail.
    case 'note': {
      const ai = d.aiAssisted as { model?: unknown } | undefined;
      return { code: str(d.category), status: ai ? 'ai_assisted' : null, text: str(d.text), detail: ai ? str(ai.model) : null };
    }
    default: { // anamnesis: the pre-qualification outcome; the answers stay in the anamnesis tab
      const pq = d.prequalification as { status?: string } | undefined;
      return { code: null, status: str(pq?.status), text: null, detail: null };
    }
  }
}

const records: TimelineProvider = {
  module: 'records', types: ['anamnesis', 'diagnosis', 'treatment', 'plan', 'note'], permission: 'health.read',
  typePermissions: { diagnosis: 'diagnoses.read' },
  // diagnoses need diagnoses.read besides (coordinators see the record without them)
  async list({ services, trx, organizationId, patientId, types: asked, before, limit, permits }) {
    const types = permits('diagnoses.read') ? asked : asked.filter((t) => t !== 'diagnosis');
    if (!types.length) return [];
    const rows = await repo.recordEntries(trx, patientId, types, before, limit);
    const superseded = await repo.supersededAmong(trx, rows.map((r) => r.id));
    const ref = patientKey(organizationId, patientId);
    const out: TimelineItem[] = [];
    for (const r of rows) {
      const d = await openJson<R>(services.keys, trx, ref, entryField(r), r.data);
      out.push(item(r.kind as TimelineType, r.id, r.created_at, { ...entryLine(r.kind, d), by: r.created_by, superseded: superseded.has(r.id), correction: Boolean(r.supersedes_id) }));
    }
    return out;
  },
};

const documents: TimelineProvider = {
  module: 'documents', types: ['document'], permission: 'documents.read',
  async list({ services, trx, organizationId, patientId, before, limit, permits }) {
    const ref = patientKey(organizationId, patientId);
    const out: TimelineItem[] = [];
    for (const r of await repo.documents(trx, patientId, permits('documents.removed'), before, limit)) {
      out.push(item('document', r.id, r.created_at, {
        code: r.category, status: r.removed_at ? 'removed' : null, by: r.created_by,
        text: await openText(services.keys, trx, ref, `document_filename:${r.id}`, r.filename),
        detail: await openText(services.keys, trx, ref, `document_note:${r.id}`, r.note),
      }));
    }
    return out;
  },
};

const consents: TimelineProvider = {
  module: 'consent', types: ['consent'], permission: 'consent.read',
  async list({ services, trx, organizationId, patientId, before, limit }) {
    const ref = patientKey(organizationId, patientId);
    const out: TimelineItem[] = [];
    for (const r of await repo.consents(trx, patientId, before, limit)) {
      out.push(item('consent', r.id, r.recorded_at, { code: r.purpose, status: r.action, by: r.recorded_by, detail: await openText(services.keys, trx, ref, consentNoteField(r.id), r.note) }));
    }
    return out;
  },
};

const appointments: TimelineProvider = {
  module: 'appointments', types: ['appointment'], permission: 'appointments.read',
  async list({ services, trx, organizationId, patientId, before, limit }) {
    const ref = patientKey(organizationId, patientId);
    const out: TimelineItem[] = [];
    for (const r of await repo.appointments(trx, patientId, before, limit)) {
      out.push(item('appointment', r.id, r.starts_at, {
        status: r.status, by: r.created_by, label: r.type_de && r.type_en ? { de: r.type_de, en: r.type_en } : null,
        detail: await openText(services.keys, trx, ref, notesField(r.id), r.notes),
      }));
    }
    return out;
  },
};

const messages: TimelineProvider = {
  module: 'messaging', types: ['message'], permission: 'messaging.send',
  async list({ trx, patientId, before, limit }) {
    return (await repo.messages(trx, patientId, before, limit)).map((r) => item('message', r.id, r.created_at, { code: r.purpose, status: r.status, detail: r.channel, by: r.created_by }));
  },
};

// What the patient wrote (WhatsApp): the text, or a photo's / document's caption; the media itself stays in the inbox.
const inbound: TimelineProvider = {
  module: 'inbox', types: ['message_in'], permission: 'inbox.read',
  async list({ services, trx, organizationId, patientId, before, limit }) {
    const ref = patientKey(organizationId, patientId);
    const out: TimelineItem[] = [];
    for (const r of await repo.inboundMessages(trx, patientId, before, limit)) {
      const c = await openJson<{ text?: string | null; media?: { caption?: string | null } | null }>(services.keys, trx, ref, `inbound:${r.id}`, r.content);
      out.push(item('message_in', r.id, r.received_at, { code: r.kind, text: str(c.text) ?? str(c.media?.caption) }));
    }
    return out;
  },
};

const aftercare: TimelineProvider = {
  module: 'aftercare', types: ['aftercare'], permission: 'aftercare.read',
  async list({ services, trx, organizationId, patientId, before, limit }) {
    const ref = patientKey(organizationId, patientId);
    const out: TimelineItem[] = [];
    for (const r of await repo.aftercareSteps(trx, patientId, before, limit)) {
      out.push(item('aftercare', r.id, r.at, { day: r.due_date, status: r.status, by: r.updated_by, label: await openJson<{ de: string; en: string }>(services.keys, trx, ref, stepTitleField(r.id), r.title) }));
    }
    return out;
  },
};

for (const p of [records, documents, consents, appointments, messages, inbound, aftercare]) registerTimelineProvider(p);
