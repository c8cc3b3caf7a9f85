import type { Tx } from '../../db/connection.ts';
import { patientColumns } from '../patients/patient.repository.ts';

type Row = Record<string, unknown>;

/** Every row about one patient, table by table, as stored. */
export async function patientRows(trx: Tx, patientId: string) {
  const by = (t: string, order: string) => trx(t).where({ patient_id: patientId }).orderBy(order) as Promise<Row[]>;
  return {
    patient: (await trx('patients').where({ id: patientId }).first(patientColumns(trx))) as Row | undefined,
    versions: await by('patient_versions', 'version'),
    entries: await by('record_entries', 'created_at'),
    consents: await by('consents', 'recorded_at'),
    documents: await by('documents', 'created_at'),
    documentEvents: await by('document_events', 'at'),
    appointments: await by('appointments', 'starts_at'),
    messages: await by('outbox_messages', 'created_at'),
    inboundMessages: await by('inbound_messages', 'received_at'),
    aftercarePlans: (await trx('aftercare_plans').where({ patient_id: patientId }).orderBy('created_at').select('*', trx.raw('anchor_date::text as anchor_date'))) as Row[],
    aftercareSteps: (await trx('aftercare_steps').where({ patient_id: patientId }).orderBy(['plan_id', 'position']).select('*', trx.raw('due_date::text as due_date'))) as Row[],
    conversations: await by('conversations', 'created_at'),
    quotes: (await trx('quotes').where({ patient_id: patientId }).orderBy('created_at').select('*', trx.raw('valid_until::text as valid_until'), trx.raw('due_date::text as due_date'))) as Row[],
    quoteItems: (await trx('quote_items').whereIn('quote_id', trx('quotes').where({ patient_id: patientId }).select('id')).orderBy(['quote_id', 'position'])) as Row[],
    deposits: (await trx('finance_deposits').where({ patient_id: patientId }).orderBy('created_at').select('*', trx.raw('due_date::text as due_date'))) as Row[],
    payments: (await trx('finance_payments').where({ patient_id: patientId }).orderBy('created_at').select('*', trx.raw('paid_on::text as paid_on'))) as Row[],
    refunds: (await trx('finance_refunds').where({ patient_id: patientId }).orderBy('created_at').select('*', trx.raw('refunded_on::text as refunded_on'))) as Row[],
    stripeCheckouts: await by('stripe_checkouts', 'created_at'),
    travelFlights: await by('travel_flights', 'arrival_at'),
    travelHotels: (await trx('travel_hotels').where({ patient_id: patientId }).orderBy('travel_hotels.check_in').select('*', trx.raw('check_in::text as check_in'), trx.raw('check_out::text as check_out'))) as Row[],
    travelTransfers: await by('travel_transfers', 'pickup_at'),
    aiRequests: await by('ai_requests', 'created_at'),
    aiDrafts: await by('ai_drafts', 'created_at'),
  };
}

/** Audit entries about the patient: direct ones and list views that showed the patient. */
export async function patientAudit(trx: Tx, patientId: string, limit = 1_000_000, order: 'asc' | 'desc' = 'asc'): Promise<Row[]> {
  return trx('audit_log')
    .where((w) => w.where('object_id', patientId).orWhereRaw(`action in ('patient.list', 'appointment.list', 'aftercare.tasks.list', 'finance.overview.read', 'travel.arrivals.list') and details->'ids' \\? ?`, [patientId]))
    // Chained entries in chain order, then those still waiting for the sequencer (insert order).
    .orderByRaw(order === 'asc' ? 'seq asc nulls last, id asc' : 'seq desc nulls first, id desc')
    .limit(limit);
}

export async function questionnairesById(trx: Tx, ids: string[]): Promise<Row[]> {
  return ids.length ? trx('questionnaires').whereIn('id', ids).orderBy(['key', 'version']) : [];
}
