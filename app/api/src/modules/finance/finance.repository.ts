// The finance tables (knex only here). Bigint columns come back from pg as strings: every amount
// is turned into a number on the way out (all amounts are below 2^53, see finance.money.ts).
import type { Tx } from '../../db/connection.ts';

export interface QuoteRow {
  id: string; organization_id: string; patient_id: string; plan_entry_id: string | null; reference: string; currency: 'EUR';
  status: 'draft' | 'sent' | 'accepted' | 'declined' | 'expired' | 'cancelled'; descriptions: Buffer | null;
  net_cents: number; vat_cents: number; total_cents: number; valid_until: string | null; due_date: string | null;
  sent_at: Date | null; decided_at: Date | null; created_at: Date;
}
export interface ItemRow { position: number; quantity: number; unit_cents: number; vat_category: 'medical_exempt' | 'standard' | 'reduced'; vat_rate_bp: number; net_cents: number; vat_cents: number }
export interface DepositRow { id: string; quote_id: string; patient_id: string; reference: string; amount_cents: number; due_date: string; cancelled_at: Date | null; created_at: Date }
export interface PaymentRow {
  id: string; organization_id: string; patient_id: string; quote_id: string; deposit_id: string | null; receipt_number: string;
  method: 'bank_transfer' | 'cash' | 'card_terminal' | 'stripe'; amount_cents: number; paid_on: string; reference: string | null;
  checkout_id: string | null; stripe_payment_intent: string | null; created_at: Date;
}
export interface RefundRow { id: string; payment_id: string; patient_id: string; amount_cents: number; refunded_on: string; method: PaymentRow['method']; stripe_refund_id: string | null }
export interface CheckoutRow {
  id: string; organization_id: string; patient_id: string; quote_id: string; deposit_id: string | null; session_id: string; url: string | null;
  amount_cents: number; status: 'open' | 'complete' | 'expired'; payment_intent: string | null; created_at: Date;
}

const n = (v: unknown) => Number(v);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const money = <T,>(row: T, cols: string[]): T => {
  const out: Record<string, unknown> = { ...(row as Record<string, unknown>) };
  for (const c of cols) if (out[c] !== null && out[c] !== undefined) out[c] = n(out[c]);
  return out as T;
};

const QUOTE_COLS = ['id', 'organization_id', 'patient_id', 'plan_entry_id', 'reference', 'currency', 'status', 'descriptions', 'net_cents', 'vat_cents', 'total_cents', 'sent_at', 'decided_at', 'created_at'];
const quotes = (trx: Tx) => trx('quotes').select(...QUOTE_COLS, trx.raw('valid_until::text as valid_until'), trx.raw('due_date::text as due_date'));

export async function quoteById(trx: Tx, id: string, forUpdate = false): Promise<QuoteRow | undefined> {
  const q = quotes(trx).where({ id });
  const row = await (forUpdate ? q.forUpdate() : q).first();
  return row ? money(row, ['net_cents', 'vat_cents', 'total_cents']) : undefined;
}
export async function quotesOf(trx: Tx, where: { patient_id?: string; ids?: string[] } = {}): Promise<QuoteRow[]> {
  let q = quotes(trx);
  if (where.patient_id) q = q.where({ patient_id: where.patient_id });
  if (where.ids) q = q.whereIn('id', where.ids);
  const rows = await q.orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id' }]);
  return rows.map((r: QuoteRow) => money(r, ['net_cents', 'vat_cents', 'total_cents']));
}
export async function itemsOf(trx: Tx, quoteIds: string[]): Promise<Map<string, ItemRow[]>> {
  const rows = quoteIds.length ? await trx('quote_items').whereIn('quote_id', quoteIds).orderBy(['quote_id', 'position']) : [];
  const m = new Map<string, ItemRow[]>();
  for (const r of rows) {
    const list = m.get(r.quote_id) ?? [];
    list.push(money(r, ['unit_cents', 'net_cents', 'vat_cents']));
    m.set(r.quote_id, list);
  }
  return m;
}
export async function depositsOf(trx: Tx, quoteIds: string[]): Promise<DepositRow[]> {
  if (!quoteIds.length) return [];
  const rows = await trx('finance_deposits').whereIn('quote_id', quoteIds)
    .select('id', 'quote_id', 'patient_id', 'reference', 'amount_cents', 'cancelled_at', 'created_at', trx.raw('due_date::text as due_date')).orderBy(['due_date', 'id']);
  return rows.map((r: DepositRow) => money(r, ['amount_cents']));
}
const paymentCols = (trx: Tx) => ['id', 'organization_id', 'patient_id', 'quote_id', 'deposit_id', 'receipt_number', 'method', 'amount_cents', 'reference', 'checkout_id', 'stripe_payment_intent', 'created_at', trx.raw('paid_on::text as paid_on')];
export async function paymentsOf(trx: Tx, quoteIds: string[]): Promise<PaymentRow[]> {
  if (!quoteIds.length) return [];
  const rows = await trx('finance_payments').whereIn('quote_id', quoteIds).select(...paymentCols(trx)).orderBy(['paid_on', 'created_at', 'id']);
  return rows.map((r: PaymentRow) => money(r, ['amount_cents']));
}
export async function paymentById(trx: Tx, id: string): Promise<PaymentRow | undefined> {
  const r = await trx('finance_payments').where({ id }).select(...paymentCols(trx)).first();
  return r ? money(r, ['amount_cents']) : undefined;
}
export async function paymentByIntent(trx: Tx, pi: string): Promise<PaymentRow | undefined> {
  const r = await trx('finance_payments').where({ stripe_payment_intent: pi }).select(...paymentCols(trx)).first();
  return r ? money(r, ['amount_cents']) : undefined;
}
export async function refundsOf(trx: Tx, paymentIds: string[]): Promise<RefundRow[]> {
  if (!paymentIds.length) return [];
  const rows = await trx('finance_refunds').whereIn('payment_id', paymentIds)
    .select('id', 'payment_id', 'patient_id', 'amount_cents', 'method', 'stripe_refund_id', trx.raw('refunded_on::text as refunded_on')).orderBy(['refunded_on', 'id']);
  return rows.map((r: RefundRow) => money(r, ['amount_cents']));
}
export async function checkoutsOf(trx: Tx, quoteIds: string[]): Promise<CheckoutRow[]> {
  if (!quoteIds.length) return [];
  const rows = await trx('stripe_checkouts').whereIn('quote_id', quoteIds).orderBy(['created_at', 'id']);
  return rows.map((r: CheckoutRow) => money(r, ['amount_cents']));
}
export async function checkoutBy(trx: Tx, where: { id?: string; session_id?: string }, forUpdate = false): Promise<CheckoutRow | undefined> {
  const q = trx('stripe_checkouts').where(where);
  const r = await (forUpdate ? q.forUpdate() : q).first();
  return r ? money(r, ['amount_cents']) : undefined;
}

export interface SettingsRow { organization_id: string; stripe_enabled: boolean; stripe_since: Date | null; stripe_share_contact: boolean }
export async function settingsOf(trx: Tx, organizationId: string): Promise<SettingsRow> {
  const r = await trx('finance_settings').where({ organization_id: organizationId }).first();
  return r ?? { organization_id: organizationId, stripe_enabled: false, stripe_since: null, stripe_share_contact: false };
}
