// Turns database rows into export objects generically: every column appears under its camelCase
// name, encrypted columns decrypted. A column added to a table shows up in the export by itself.
export const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

export type Decryptors = Record<string, (box: Buffer, row: Record<string, unknown>) => Promise<unknown>>;

export async function exportRow(row: Record<string, unknown>, decrypt: Decryptors = {}): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [col, value] of Object.entries(row)) {
    if (Buffer.isBuffer(value)) {
      const d = decrypt[col];
      if (!d) throw new Error(`export: no decryptor for encrypted column ${col}`);
      out[camel(col)] = await d(value, row);
    } else out[camel(col)] = value instanceof Date ? value.toISOString() : value;
  }
  return out;
}

/** Which table feeds which export section (tests/integration/patients-export.test.ts checks it). */
export const EXPORT_SECTIONS: Record<string, string> = {
  patients: 'patient',
  patient_versions: 'masterDataHistory',
  record_entries: 'recordEntries',
  consents: 'consents',
  documents: 'documents',
  document_events: 'documentEvents',
  appointments: 'appointments',
  outbox_messages: 'messages',
  inbound_messages: 'inboundMessages',
  aftercare_plans: 'aftercarePlans',
  aftercare_steps: 'aftercareSteps',
  conversations: 'conversations',
  quotes: 'quotes',
  quote_items: 'quoteItems',
  finance_deposits: 'deposits',
  finance_payments: 'payments',
  finance_refunds: 'refunds',
  stripe_checkouts: 'stripeCheckouts',
  travel_flights: 'travelFlights',
  travel_hotels: 'travelHotels',
  travel_transfers: 'travelTransfers',
  ai_requests: 'aiDisclosures',
  ai_drafts: 'aiDrafts',
  audit_log: 'auditTrail',
};

/** Patient tables that are deliberately not exported, and why. */
export const NOT_EXPORTED: Record<string, string> = {
  patient_search: 'keyed hashes derived from the master data (no information beyond the master data itself)',
  erasure_ledger: 'only holds patients that no longer exist',
};
