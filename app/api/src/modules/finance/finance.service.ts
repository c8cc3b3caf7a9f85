// Quotes (Kostenvoranschläge) per treatment plan, deposits, payments and refunds recorded by hand,
// the finance view and payment receipts (docs/finance.md). The finance role sees names, contact
// data and amounts; line item descriptions (which may name the treatment) are decrypted only for
// callers holding health.read. What is owed: an accepted quote's total, or — before acceptance —
// the deposits requested; open = owed − (payments − refunds), never below 0; overdue = the open
// amount past the quote's due date, or the part of deposits past their due date not yet paid.
import { randomUUID } from 'node:crypto';
import { withScope, type Tx } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import type { Actor } from '../../core/context.ts';
import { AppError, notFound, validation } from '../../core/errors.ts';
import { permits } from '../../core/permissions.ts';
import type { Services } from '../../http/services.ts';
import { audit } from '../audit/audit.service.ts';
import { organizationTimeZone } from '../appointments/appointment.repository.ts';
import { localDay } from '../appointments/time-zone.ts';
import { loadPatient } from '../messaging/outbox.service.ts';
import { openJson, patientKey, sealJson } from '../patients/patient.crypto.ts';
import { requirePatient, requireWritable } from '../patients/patient.guard.ts';
import { readScope, scope } from '../patients/patient.service.ts';
import type { MasterData } from '../patients/patient.schema.ts';
import { newReference, quoteTotals, vatByRate } from './finance.money.ts';
import * as repo from './finance.repository.ts';
import type { QuoteInput, QuoteStatus } from './finance.schema.ts';

export const descriptionsField = (quoteId: string) => `quote_descriptions:${quoteId}`;

export async function today(trx: Tx, organizationId: string, now = new Date()): Promise<string> {
  return localDay(now, await organizationTimeZone(trx, organizationId));
}

export interface Amounts { paidCents: number; refundedCents: number; openCents: number; overdueCents: number; owedCents: number }

/** What a quote's payments leave open and overdue on `day` (see the header). */
export function quoteAmounts(q: Pick<repo.QuoteRow, 'status' | 'total_cents' | 'due_date'>, deposits: repo.DepositRow[], payments: repo.PaymentRow[], refunds: repo.RefundRow[], day: string): Amounts {
  const paidCents = payments.reduce((s, p) => s + p.amount_cents, 0);
  const refundedCents = refunds.reduce((s, r) => s + r.amount_cents, 0);
  const net = paidCents - refundedCents;
  const active = deposits.filter((d) => !d.cancelled_at);
  const requested = active.reduce((s, d) => s + d.amount_cents, 0);
  const owedCents = q.status === 'accepted' ? q.total_cents : q.status === 'draft' || q.status === 'sent' ? requested : 0;
  const openCents = Math.max(0, owedCents - net);
  let overdueCents: number;
  if (q.status === 'accepted' && q.due_date && q.due_date < day) overdueCents = openCents;
  else {
    const dueDeposits = active.filter((d) => d.due_date < day).reduce((s, d) => s + d.amount_cents, 0);
    overdueCents = Math.min(openCents, Math.max(0, dueDeposits - net));
  }
  return { paidCents, refundedCents, openCents, overdueCents, owedCents };
}

/** A sent quote past its validity counts as expired. */
export const effectiveStatus = (q: Pick<repo.QuoteRow, 'status' | 'valid_until'>, day: string): QuoteStatus =>
  q.status === 'sent' && q.valid_until && q.valid_until < day ? 'expired' : q.status;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export interface Bundle { items: Map<string, repo.ItemRow[]>; deposits: repo.DepositRow[]; payments: repo.PaymentRow[]; refunds: repo.RefundRow[]; checkouts: repo.CheckoutRow[] }
export async function loadBundle(trx: Tx, quoteIds: string[], withCheckouts = true): Promise<Bundle> {
  const [items, deposits, payments, checkouts] = await Promise.all([repo.itemsOf(trx, quoteIds), repo.depositsOf(trx, quoteIds), repo.paymentsOf(trx, quoteIds), withCheckouts ? repo.checkoutsOf(trx, quoteIds) : Promise.resolve([])]);
  return { items, deposits, payments, refunds: await repo.refundsOf(trx, payments.map((p) => p.id)), checkouts };
}

export function amountsIn(b: Bundle, q: repo.QuoteRow, day: string): Amounts {
  const payments = b.payments.filter((p) => p.quote_id === q.id);
  const ids = new Set(payments.map((p) => p.id));
  return quoteAmounts({ ...q, status: effectiveStatus(q, day) }, b.deposits.filter((d) => d.quote_id === q.id), payments, b.refunds.filter((r) => ids.has(r.payment_id)), day);
}

async function quoteView(services: Services, trx: Tx, actor: Actor, q: repo.QuoteRow, b: Bundle, master: MasterData | undefined, day: string) {
  const visible = permits(actor, 'health.read');
  const descriptions = visible && q.descriptions ? await openJson<string[]>(services.keys, trx, patientKey(q.organization_id, q.patient_id), descriptionsField(q.id), q.descriptions) : null;
  const items = (b.items.get(q.id) ?? []).map((i) => ({
    position: i.position, quantity: i.quantity, unitCents: i.unit_cents, vatCategory: i.vat_category, vatRateBp: i.vat_rate_bp,
    netCents: i.net_cents, vatCents: i.vat_cents, totalCents: i.net_cents + i.vat_cents, description: descriptions?.[i.position] ?? null,
  }));
  const payments = b.payments.filter((p) => p.quote_id === q.id);
  const deposits = b.deposits.filter((d) => d.quote_id === q.id);
  const a = amountsIn(b, q, day);
  return {
    id: q.id, reference: q.reference, planEntryId: q.plan_entry_id, currency: q.currency, status: effectiveStatus(q, day),
    patient: { id: q.patient_id, givenName: master?.givenName ?? '', familyName: master?.familyName ?? '', email: master?.email ?? null },
    netCents: q.net_cents, vatCents: q.vat_cents, totalCents: q.total_cents,
    vatByRate: vatByRate(items.map((i) => ({ ...i, vatCategory: i.vatCategory }))),
    validUntil: q.valid_until, dueDate: q.due_date, createdAt: q.created_at.toISOString(), sentAt: iso(q.sent_at), decidedAt: iso(q.decided_at),
    descriptionsVisible: visible && descriptions !== null,
    items,
    deposits: deposits.map((d) => {
      const paid = payments.filter((p) => p.deposit_id === d.id);
      const refunded = b.refunds.filter((r) => paid.some((p) => p.id === r.payment_id)).reduce((s, r) => s + r.amount_cents, 0);
      return { id: d.id, reference: d.reference, amountCents: d.amount_cents, dueDate: d.due_date, paidCents: paid.reduce((s, p) => s + p.amount_cents, 0) - refunded, cancelled: d.cancelled_at !== null, createdAt: d.created_at.toISOString() };
    }),
    payments: payments.map((p) => {
      const refunds = b.refunds.filter((r) => r.payment_id === p.id);
      return {
        id: p.id, receiptNumber: p.receipt_number, method: p.method, amountCents: p.amount_cents, paidOn: p.paid_on, depositId: p.deposit_id, reference: p.reference,
        refunds: refunds.map((r) => ({ id: r.id, amountCents: r.amount_cents, refundedOn: r.refunded_on, method: r.method, stripeRefundId: r.stripe_refund_id })),
        refundedCents: refunds.reduce((s, r) => s + r.amount_cents, 0),
      };
    }),
    checkouts: b.checkouts.filter((c) => c.quote_id === q.id).map((c) => ({ id: c.id, depositId: c.deposit_id, sessionId: c.session_id, url: c.url, amountCents: c.amount_cents, status: c.status, createdAt: c.created_at.toISOString() })),
    paidCents: a.paidCents, refundedCents: a.refundedCents, openCents: a.openCents, overdueCents: a.overdueCents,
  };
}
export type QuoteView = Awaited<ReturnType<typeof quoteView>>;

/** One quote as the caller may see it (used after every change). */
export async function viewOf(services: Services, trx: Tx, actor: Actor, id: string): Promise<QuoteView> {
  const q = await repo.quoteById(trx, id);
  if (!q) throw notFound('Quote');
  const { master } = await loadPatient(services, trx, q.patient_id);
  return quoteView(services, trx, actor, q, await loadBundle(trx, [q.id]), master, await today(trx, actor.organizationId));
}

// ---- quotes ----

async function checkPlan(trx: Tx, patientId: string, planEntryId: string): Promise<void> {
  const entry = await trx('record_entries').where({ id: planEntryId }).first('patient_id', 'kind');
  if (!entry || entry.patient_id !== patientId || entry.kind !== 'plan') throw validation('body.planEntryId', 'is not a treatment plan of this patient', 'not_found');
}

async function checkDates(trx: Tx, organizationId: string, input: QuoteInput): Promise<void> {
  if (input.validUntil && input.validUntil < (await today(trx, organizationId))) throw validation('body.validUntil', 'lies in the past', 'in_past');
}

async function writeItems(services: Services, trx: Tx, organizationId: string, patientId: string, quoteId: string, input: QuoteInput) {
  let t: ReturnType<typeof quoteTotals>;
  try {
    t = quoteTotals(input.items);
  } catch {
    throw validation('body.items', 'the amounts are too large', 'too_large');
  }
  await trx('quote_items').where({ quote_id: quoteId }).delete();
  await trx('quote_items').insert(input.items.map((i, position) => ({
    organization_id: organizationId, quote_id: quoteId, position, quantity: i.quantity, unit_cents: i.unitCents, vat_category: i.vatCategory,
    vat_rate_bp: t.lines[position].vatRateBp, net_cents: t.lines[position].netCents, vat_cents: t.lines[position].vatCents,
  })));
  const descriptions = await sealJson(services.keys, trx, patientKey(organizationId, patientId), descriptionsField(quoteId), input.items.map((i) => i.description));
  return { net_cents: t.netCents, vat_cents: t.vatCents, total_cents: t.totalCents, descriptions };
}

export async function createQuote(services: Services, patientId: string, input: QuoteInput) {
  const actor = authorize('quotes.write');
  return withScope(services.db, scope(actor), async (trx) => {
    await checkDates(trx, actor.organizationId, input);
    await requireWritable(trx, patientId);
    await checkPlan(trx, patientId, input.planEntryId);
    const id = randomUUID();
    await trx('quotes').insert({
      id, organization_id: actor.organizationId, patient_id: patientId, plan_entry_id: input.planEntryId, reference: newReference('KV'),
      currency: input.currency, net_cents: 0, vat_cents: 0, total_cents: 0, valid_until: input.validUntil ?? null, due_date: input.dueDate ?? null,
      created_by: actor.userId, updated_by: actor.userId,
    });
    const totals = await writeItems(services, trx, actor.organizationId, patientId, id, input);
    await trx('quotes').where({ id }).update(totals);
    await audit(trx, { action: 'quote.create', objectType: 'patient', objectId: patientId, details: { quoteId: id, items: input.items.length, totalCents: totals.total_cents } });
    return viewOf(services, trx, actor, id);
  });
}

export async function updateQuote(services: Services, quoteId: string, input: QuoteInput) {
  const actor = authorize('quotes.write');
  return withScope(services.db, scope(actor), async (trx) => {
    await checkDates(trx, actor.organizationId, input);
    const q = await repo.quoteById(trx, quoteId, true);
    if (!q) throw notFound('Quote');
    if (q.status !== 'draft') throw new AppError(409, 'invalid_transition', 'Only a draft quote can be changed; cancel it and write a new one', { status: q.status });
    await requireWritable(trx, q.patient_id);
    await checkPlan(trx, q.patient_id, input.planEntryId);
    const totals = await writeItems(services, trx, actor.organizationId, q.patient_id, quoteId, input);
    await trx('quotes').where({ id: quoteId }).update({ ...totals, plan_entry_id: input.planEntryId, currency: input.currency, valid_until: input.validUntil ?? null, due_date: input.dueDate ?? null, updated_by: actor.userId, updated_at: trx.fn.now() });
    await audit(trx, { action: 'quote.update', objectType: 'patient', objectId: q.patient_id, details: { quoteId, items: input.items.length, totalCents: totals.total_cents } });
    return viewOf(services, trx, actor, quoteId);
  });
}

const TRANSITIONS: Record<QuoteStatus, QuoteStatus[]> = {
  draft: ['sent', 'cancelled'],
  sent: ['accepted', 'declined', 'expired', 'cancelled'],
  accepted: ['cancelled'],
  declined: [],
  expired: ['sent'],
  cancelled: [],
};

export async function setStatus(services: Services, quoteId: string, status: QuoteStatus) {
  const actor = authorize('finance.write');
  return withScope(services.db, scope(actor), async (trx) => {
    const q = await repo.quoteById(trx, quoteId, true);
    if (!q) throw notFound('Quote');
    await requireWritable(trx, q.patient_id);
    const day = await today(trx, actor.organizationId);
    const from = effectiveStatus(q, day);
    if (!TRANSITIONS[from].includes(status)) throw new AppError(409, 'invalid_transition', `A ${from} quote cannot become ${status}`, { status: from });
    const patch: Record<string, unknown> = { status, updated_by: actor.userId, updated_at: trx.fn.now() };
    if (status === 'sent') patch.sent_at = trx.fn.now();
    if (status === 'accepted' || status === 'declined') patch.decided_at = trx.fn.now();
    await trx('quotes').where({ id: quoteId }).update(patch);
    await audit(trx, { action: 'quote.status', objectType: 'patient', objectId: q.patient_id, details: { quoteId, from, to: status } });
    return viewOf(services, trx, actor, quoteId);
  });
}

export async function patientQuotes(services: Services, patientId: string) {
  const actor = authorize('finance.read');
  return withScope(services.db, readScope(actor), async (trx) => {
    await requirePatient(trx, patientId);
    const rows = await repo.quotesOf(trx, { patient_id: patientId });
    const b = await loadBundle(trx, rows.map((q) => q.id));
    const { master } = await loadPatient(services, trx, patientId);
    const day = await today(trx, actor.organizationId);
    const out = [];
    for (const q of rows) out.push(await quoteView(services, trx, actor, q, b, master, day));
    await audit(trx, { action: 'patient.finance.read', objectType: 'patient', objectId: patientId, details: { quotes: out.length, descriptions: permits(actor, 'health.read') } });
    return { quotes: out };
  });
}

export async function getQuote(services: Services, quoteId: string) {
  const actor = authorize('finance.read');
  return withScope(services.db, readScope(actor), async (trx) => {
    const view = await viewOf(services, trx, actor, quoteId);
    await audit(trx, { action: 'patient.finance.read', objectType: 'patient', objectId: view.patient.id, details: { quoteId, descriptions: view.descriptionsVisible } });
    return { quote: view };
  });
}

// ---- deposits, payments, refunds ----

async function writableQuote(trx: Tx, quoteId: string): Promise<repo.QuoteRow> {
  const q = await repo.quoteById(trx, quoteId, true);
  if (!q) throw notFound('Quote');
  await requireWritable(trx, q.patient_id);
  return q;
}

export async function requestDeposit(services: Services, quoteId: string, input: { amountCents: number; dueDate: string }) {
  const actor = authorize('finance.write');
  return withScope(services.db, scope(actor), async (trx) => {
    const q = await writableQuote(trx, quoteId);
    if (!['draft', 'sent', 'accepted'].includes(q.status)) throw new AppError(409, 'invalid_transition', `A ${q.status} quote takes no deposit`, { status: q.status });
    const others = await repo.depositsOf(trx, [quoteId]);
    const requested = others.filter((d) => !d.cancelled_at).reduce((s, d) => s + d.amount_cents, 0);
    if (requested + input.amountCents > q.total_cents) throw validation('body.amountCents', 'deposits may not exceed the quote\'s total', 'too_large');
    const id = randomUUID();
    await trx('finance_deposits').insert({ id, organization_id: actor.organizationId, patient_id: q.patient_id, quote_id: quoteId, reference: newReference('AZ'), amount_cents: input.amountCents, due_date: input.dueDate, created_by: actor.userId });
    await audit(trx, { action: 'finance.deposit.request', objectType: 'patient', objectId: q.patient_id, details: { quoteId, depositId: id, amountCents: input.amountCents } });
    return { quote: await viewOf(services, trx, actor, quoteId) };
  });
}

export interface PaymentInsert { organizationId: string; patientId: string; quoteId: string; depositId: string | null; method: repo.PaymentRow['method']; amountCents: number; paidOn: string; reference: string | null; checkoutId?: string | null; stripePaymentIntent?: string | null; recordedBy: string | null }

/** Inserts a payment (a Stripe payment once per payment intent); returns its id, or undefined when it was there already. */
export async function insertPayment(trx: Tx, p: PaymentInsert): Promise<string | undefined> {
  const rows = await trx('finance_payments').insert({
    organization_id: p.organizationId, patient_id: p.patientId, quote_id: p.quoteId, deposit_id: p.depositId, receipt_number: newReference('QT'),
    method: p.method, amount_cents: p.amountCents, paid_on: p.paidOn, reference: p.reference, checkout_id: p.checkoutId ?? null,
    stripe_payment_intent: p.stripePaymentIntent ?? null, recorded_by: p.recordedBy,
  }).onConflict(trx.raw('(organization_id, stripe_payment_intent)')).ignore().returning('id');
  return rows[0]?.id;
}

export async function recordPayment(services: Services, quoteId: string, input: { amountCents: number; method: 'bank_transfer' | 'cash' | 'card_terminal'; paidOn: string; depositId?: string; reference?: string }) {
  const actor = authorize('finance.write');
  return withScope(services.db, scope(actor), async (trx) => {
    const q = await writableQuote(trx, quoteId);
    if (q.status === 'draft') throw new AppError(409, 'invalid_transition', 'A draft quote takes no payment; send it first', { status: q.status });
    if (input.depositId) {
      const d = (await repo.depositsOf(trx, [quoteId])).find((x) => x.id === input.depositId);
      if (!d || d.cancelled_at) throw validation('body.depositId', 'is not an open deposit of this quote', 'not_found');
    }
    if (input.paidOn > (await today(trx, actor.organizationId))) throw validation('body.paidOn', 'lies in the future', 'in_future');
    const id = await insertPayment(trx, { organizationId: actor.organizationId, patientId: q.patient_id, quoteId, depositId: input.depositId ?? null, method: input.method, amountCents: input.amountCents, paidOn: input.paidOn, reference: input.reference || null, recordedBy: actor.userId });
    await audit(trx, { action: 'finance.payment.record', objectType: 'patient', objectId: q.patient_id, details: { quoteId, paymentId: id, method: input.method, amountCents: input.amountCents } });
    return { quote: await viewOf(services, trx, actor, quoteId) };
  });
}

/** Inserts a refund once (per Stripe refund id); returns whether it is new. The payment's refunds never exceed it. */
export async function insertRefund(trx: Tx, payment: repo.PaymentRow, r: { amountCents: number; refundedOn: string; method: repo.PaymentRow['method']; stripeRefundId: string | null; recordedBy: string | null }): Promise<boolean> {
  const already = (await repo.refundsOf(trx, [payment.id])).reduce((s, x) => s + x.amount_cents, 0);
  if (already + r.amountCents > payment.amount_cents) throw validation('body.amountCents', 'refunds may not exceed the payment', 'too_large');
  const rows = await trx('finance_refunds').insert({
    organization_id: payment.organization_id, patient_id: payment.patient_id, payment_id: payment.id, amount_cents: r.amountCents,
    refunded_on: r.refundedOn, method: r.method, stripe_refund_id: r.stripeRefundId, recorded_by: r.recordedBy,
  }).onConflict(trx.raw('(organization_id, stripe_refund_id)')).ignore().returning('id');
  return rows.length > 0;
}

export async function lockedPayment(trx: Tx, paymentId: string): Promise<repo.PaymentRow> {
  await trx('finance_payments').where({ id: paymentId }).forUpdate().first('id');
  const p = await repo.paymentById(trx, paymentId);
  if (!p) throw notFound('Payment');
  return p;
}

// ---- the finance view and receipts ----

export async function overview(services: Services, filter: { status?: 'all' | 'open' | 'overdue' | 'paid'; q?: string }) {
  const actor = authorize('finance.read');
  return withScope(services.db, readScope(actor), async (trx) => {
    const day = await today(trx, actor.organizationId);
    const rows = (await repo.quotesOf(trx)).filter((q) => q.status !== 'draft');
    const b = await loadBundle(trx, rows.map((q) => q.id), false);
    const byPatient = new Map<string, { quotes: number; quotedCents: number; paidCents: number; refundedCents: number; openCents: number; overdueCents: number; nextDueDate: string | null }>();
    const quotes = [];
    for (const q of rows) {
      const a = amountsIn(b, q, day);
      const status = effectiveStatus(q, day);
      const e = byPatient.get(q.patient_id) ?? { quotes: 0, quotedCents: 0, paidCents: 0, refundedCents: 0, openCents: 0, overdueCents: 0, nextDueDate: null };
      e.quotes++;
      e.quotedCents += a.owedCents;
      e.paidCents += a.paidCents;
      e.refundedCents += a.refundedCents;
      e.openCents += a.openCents;
      e.overdueCents += a.overdueCents;
      const dues = [q.due_date, ...b.deposits.filter((d) => d.quote_id === q.id && !d.cancelled_at).map((d) => d.due_date)].filter((d): d is string => !!d && a.openCents > 0);
      for (const d of dues) if (!e.nextDueDate || d < e.nextDueDate) e.nextDueDate = d;
      byPatient.set(q.patient_id, e);
      quotes.push({ id: q.id, reference: q.reference, patientId: q.patient_id, status, totalCents: q.total_cents, paidCents: a.paidCents - a.refundedCents, openCents: a.openCents, overdueCents: a.overdueCents, dueDate: q.due_date, createdAt: q.created_at.toISOString() });
    }
    const needle = filter.q?.toLocaleLowerCase('de');
    type Sums = typeof byPatient extends Map<string, infer V> ? V : never;
    const patients: (Sums & { patient: { id: string; givenName: string; familyName: string; email: string | null } })[] = [];
    for (const [patientId, e] of byPatient) {
      if (filter.status === 'open' && e.openCents === 0) continue;
      if (filter.status === 'overdue' && e.overdueCents === 0) continue;
      if (filter.status === 'paid' && (e.openCents > 0 || e.paidCents === 0)) continue;
      const { master } = await loadPatient(services, trx, patientId);
      if (!master) continue;
      if (needle && !`${master.givenName} ${master.familyName}`.toLocaleLowerCase('de').includes(needle)) continue;
      patients.push({ patient: { id: patientId, givenName: master.givenName, familyName: master.familyName, email: master.email ?? null }, ...e });
    }
    patients.sort((x, y) => y.overdueCents - x.overdueCents || y.openCents - x.openCents || x.patient.familyName.localeCompare(y.patient.familyName, 'de'));
    const shown = new Set(patients.map((p) => p.patient.id));
    const sum = (k: 'quotedCents' | 'paidCents' | 'refundedCents' | 'openCents' | 'overdueCents') => patients.reduce((s, p) => s + p[k], 0);
    await audit(trx, { action: 'finance.overview.read', objectType: 'finance', details: { status: filter.status ?? 'all', ids: [...shown] } });
    return {
      date: day,
      totals: { quotedCents: sum('quotedCents'), paidCents: sum('paidCents'), refundedCents: sum('refundedCents'), openCents: sum('openCents'), overdueCents: sum('overdueCents') },
      patients,
      quotes: quotes.filter((q) => shown.has(q.patientId)),
    };
  });
}

export async function receipt(services: Services, paymentId: string) {
  const actor = authorize('finance.read');
  return withScope(services.db, readScope(actor), async (trx) => {
    const p = await repo.paymentById(trx, paymentId);
    if (!p) throw notFound('Payment');
    const q = (await repo.quoteById(trx, p.quote_id))!;
    const { master } = await loadPatient(services, trx, p.patient_id);
    if (!master) throw new AppError(410, 'anonymized', 'This patient record was anonymized after its retention period');
    const items = (await repo.itemsOf(trx, [q.id])).get(q.id) ?? [];
    const refunds = await repo.refundsOf(trx, [p.id]);
    const deposit = p.deposit_id ? (await repo.depositsOf(trx, [q.id])).find((d) => d.id === p.deposit_id) : undefined;
    const org = await trx('organizations').where({ id: actor.organizationId }).first('name');
    await audit(trx, { action: 'finance.receipt.read', objectType: 'patient', objectId: p.patient_id, details: { paymentId } });
    return {
      receipt: {
        receiptNumber: p.receipt_number, paidOn: p.paid_on, amountCents: p.amount_cents, currency: q.currency, method: p.method,
        refundedCents: refunds.reduce((s, r) => s + r.amount_cents, 0), quoteReference: q.reference, depositReference: deposit?.reference ?? null, reference: p.reference,
        organization: { name: org?.name ?? '' },
        patient: { givenName: master.givenName, familyName: master.familyName, address: master.address ? { street: master.address.street ?? '', postalCode: master.address.postalCode ?? '', city: master.address.city ?? '', country: master.address.country ?? '' } : null },
        vatByRate: vatByRate(items.map((i) => ({ quantity: i.quantity, unitCents: i.unit_cents, vatCategory: i.vat_category, netCents: i.net_cents, vatCents: i.vat_cents, totalCents: i.net_cents + i.vat_cents, vatRateBp: i.vat_rate_bp }))),
        quoteTotalCents: q.total_cents,
      },
    };
  });
}
