// Stripe payments, opt-in per organization (docs/finance.md). We use a Checkout Session per quote
// or deposit, not a Payment Link: a session is single-use for one exact amount, expires on its own
// (24 h), carries our checkout id (client_reference_id, metadata) into the webhook, and reports
// one payment intent — a Payment Link is reusable and could be paid twice for one deposit.
// Payment status comes from verified webhooks (stripe.webhook.ts → applyStripeEvent), refunds
// from webhooks (refund.created/updated) and from the refund route; each is recorded once
// (unique payment intent, unique refund id, unique event id).
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { withScope, type Tx } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import { AppError, notFound, validation } from '../../core/errors.ts';
import type { Services } from '../../http/services.ts';
import { audit } from '../audit/audit.service.ts';
import { organizationTimeZone } from '../appointments/appointment.repository.ts';
import { localDay } from '../appointments/time-zone.ts';
import { loadPatient } from '../messaging/outbox.service.ts';
import { syncOrganizationRegister } from '../services-register/register.service.ts';
import { scope } from '../patients/patient.service.ts';
import { requireWritable } from '../patients/patient.guard.ts';
import { STRIPE_MAX_CENTS } from './finance.money.ts';
import * as repo from './finance.repository.ts';
import { amountsIn, insertPayment, insertRefund, loadBundle, lockedPayment, today, viewOf } from './finance.service.ts';
import { createCheckoutSession, createRefund, readStripeSecret, retrieveCheckoutSession } from './stripe.client.ts';

export const STRIPE_WEBHOOK_PREFIX = '/webhooks/stripe/';
/** What a Stripe object id looks like (evt_…, cs_…, pi_…, re_…); anything else in an event is not used. */
export const STRIPE_ID = /^[A-Za-z0-9_]{1,255}$/;

// ---- settings ----

async function settingsView(services: Services, trx: Tx, organizationId: string) {
  const s = await repo.settingsOf(trx, organizationId);
  const cfg = services.config.finance;
  return {
    stripeEnabled: s.stripe_enabled, shareContact: s.stripe_share_contact, since: s.stripe_since ? s.stripe_since.toISOString() : null,
    secretKeyInstalled: !!(await readStripeSecret(cfg, organizationId, 'stripe-secret-key')),
    webhookSecretInstalled: !!(await readStripeSecret(cfg, organizationId, 'stripe-webhook-secret')),
    webhookPath: `${STRIPE_WEBHOOK_PREFIX}${organizationId}`,
  };
}

export async function getSettings(services: Services) {
  const actor = authorize('finance.settings');
  return withScope(services.db, scope(actor), (trx) => settingsView(services, trx, actor.organizationId));
}

/** Switching Stripe on needs both secret files; on and off are audited as external-service events. */
export async function putSettings(services: Services, input: { stripeEnabled: boolean; shareContact: boolean }) {
  const actor = authorize('finance.settings');
  return withScope(services.db, scope(actor), async (trx) => {
    const before = await repo.settingsOf(trx, actor.organizationId);
    if (input.stripeEnabled && !before.stripe_enabled) {
      const cfg = services.config.finance;
      if (!(await readStripeSecret(cfg, actor.organizationId, 'stripe-secret-key'))) throw validation('body.stripeEnabled', 'the Stripe secret key file is not installed on the server', 'not_configured');
      if (!(await readStripeSecret(cfg, actor.organizationId, 'stripe-webhook-secret'))) throw validation('body.stripeEnabled', 'the Stripe webhook signing secret file is not installed on the server', 'not_configured');
    }
    const since = input.stripeEnabled ? (before.stripe_enabled ? before.stripe_since : new Date()) : null;
    await trx('finance_settings').insert({ organization_id: actor.organizationId, stripe_enabled: input.stripeEnabled, stripe_since: since, stripe_share_contact: input.shareContact, updated_by: actor.userId })
      .onConflict('organization_id').merge({ stripe_enabled: input.stripeEnabled, stripe_since: since, stripe_share_contact: input.shareContact, updated_by: actor.userId, updated_at: trx.fn.now() });
    // Switching Stripe on or off: recorded in the register of external services and audited there once,
    // as stripe.external_service.enabled / .disabled (with shareContact in the entry's details; the
    // provider reads finance_settings through trx). Sharing name and e-mail is no switch for the register.
    if (input.stripeEnabled === before.stripe_enabled && input.shareContact !== before.stripe_share_contact) {
      await audit(trx, { action: 'finance.external_service.changed', objectType: 'external_service', objectId: 'stripe', details: { shareContact: input.shareContact } });
    }
    await syncOrganizationRegister(services, trx, actor.organizationId);
    return settingsView(services, trx, actor.organizationId);
  });
}

// ---- checkout ----

export async function createCheckout(services: Services, quoteId: string, input: { depositId?: string }) {
  const actor = authorize('finance.write');
  return withScope(services.db, scope(actor), async (trx) => {
    const settings = await repo.settingsOf(trx, actor.organizationId);
    if (!settings.stripe_enabled) throw new AppError(409, 'stripe_disabled', 'Stripe payments are switched off for this organization');
    const q = await repo.quoteById(trx, quoteId, true);
    if (!q) throw notFound('Quote');
    await requireWritable(trx, q.patient_id);
    const day = await today(trx, actor.organizationId);
    const b = await loadBundle(trx, [quoteId]);
    let amount: number;
    let description: string;
    if (input.depositId) {
      const d = b.deposits.find((x) => x.id === input.depositId);
      if (!d || d.cancelled_at) throw validation('body.depositId', 'is not an open deposit of this quote', 'not_found');
      const paid = b.payments.filter((p) => p.deposit_id === d.id);
      const refunded = b.refunds.filter((r) => paid.some((p) => p.id === r.payment_id)).reduce((s, r) => s + r.amount_cents, 0);
      amount = d.amount_cents - (paid.reduce((s, p) => s + p.amount_cents, 0) - refunded);
      description = `Anzahlung ${d.reference}`;
    } else {
      amount = amountsIn(b, q, day).openCents;
      description = `Rechnung ${q.reference}`;
    }
    if (amount <= 0) throw new AppError(409, 'nothing_open', 'Nothing is open on this quote or deposit');
    if (amount > STRIPE_MAX_CENTS) throw new AppError(409, 'amount_too_large', 'Stripe Checkout takes at most 999,999.99 EUR in one payment; request deposits', { limit: STRIPE_MAX_CENTS });
    const { master } = await loadPatient(services, trx, q.patient_id);
    const id = randomUUID();
    const back = services.config.finance.returnUrl ?? `${services.config.publicUrl}/payment-complete`;
    const withResult = (r: string) => `${back}${back.includes('?') ? '&' : '?'}result=${r}`;
    const session = await createCheckoutSession(services.config.finance, {
      amountCents: amount, currency: q.currency, description, checkoutId: id, organizationId: actor.organizationId, quoteId, depositId: input.depositId ?? null,
      successUrl: withResult('paid'), cancelUrl: withResult('cancelled'),
      ...(settings.stripe_share_contact && master?.email ? { customerEmail: master.email } : {}),
    });
    await trx('stripe_checkouts').insert({
      id, organization_id: actor.organizationId, patient_id: q.patient_id, quote_id: quoteId, deposit_id: input.depositId ?? null,
      session_id: session.id, url: session.url, amount_cents: amount, payment_intent: session.paymentIntent, created_by: actor.userId,
    });
    await audit(trx, { action: 'finance.checkout.create', objectType: 'patient', objectId: q.patient_id, details: { quoteId, checkoutId: id, amountCents: amount, sharedContact: settings.stripe_share_contact } });
    const quote = await viewOf(services, trx, actor, quoteId);
    return { checkout: quote.checkouts.find((c) => c.id === id)!, quote };
  });
}

/** Asks Stripe for the session's state (when a webhook is late) and applies it like the webhook would. */
export async function refreshCheckout(services: Services, checkoutId: string) {
  const actor = authorize('finance.write');
  return withScope(services.db, scope(actor), async (trx) => {
    const c = await repo.checkoutBy(trx, { id: checkoutId }, true);
    if (!c) throw notFound('Checkout');
    const s = await retrieveCheckoutSession(services.config.finance, actor.organizationId, c.session_id);
    const day = await today(trx, actor.organizationId);
    await applySession(trx, c, { status: s.status, paymentStatus: s.paymentStatus, amountTotal: s.amountTotal, currency: s.currency, paymentIntent: s.paymentIntent }, day, actor.userId);
    await audit(trx, { action: 'finance.checkout.refresh', objectType: 'patient', objectId: c.patient_id, details: { checkoutId, status: s.status } });
    const quote = await viewOf(services, trx, actor, c.quote_id);
    return { checkout: quote.checkouts.find((x) => x.id === checkoutId)!, quote };
  });
}

// ---- refunds ----

export async function refundPayment(services: Services, paymentId: string, input: { amountCents: number; refundedOn?: string; method?: repo.PaymentRow['method'] }) {
  const actor = authorize('finance.write');
  return withScope(services.db, scope(actor), async (trx) => {
    const p = await lockedPayment(trx, paymentId);
    const day = await today(trx, actor.organizationId);
    const method = input.method ?? p.method;
    if (input.refundedOn && input.refundedOn > day) throw validation('body.refundedOn', 'lies in the future', 'in_future');
    const already = (await repo.refundsOf(trx, [p.id])).reduce((s, r) => s + r.amount_cents, 0);
    if (already + input.amountCents > p.amount_cents) throw validation('body.amountCents', 'refunds may not exceed the payment', 'too_large');
    let stripeRefundId: string | null = null;
    if (method === 'stripe') {
      if (p.method !== 'stripe' || !p.stripe_payment_intent) throw validation('body.method', 'only a Stripe payment is refunded through Stripe', 'invalid_value');
      const r = await createRefund(services.config.finance, actor.organizationId, p.stripe_payment_intent, input.amountCents, `praxiskern-refund-${randomUUID()}`);
      stripeRefundId = r.id;
    }
    await insertRefund(trx, p, { amountCents: input.amountCents, refundedOn: input.refundedOn ?? day, method, stripeRefundId, recordedBy: actor.userId });
    await audit(trx, { action: 'finance.refund.record', objectType: 'patient', objectId: p.patient_id, details: { paymentId, amountCents: input.amountCents, method } });
    return { quote: await viewOf(services, trx, actor, p.quote_id) };
  });
}

// ---- webhook events ----

interface SessionState { status: string | null; paymentStatus: string | null; amountTotal: number | null; currency: string | null; paymentIntent: string | null }

/** Applies a session's state: paid → one payment (per payment intent); expired → expired unless complete. */
async function applySession(trx: Tx, c: repo.CheckoutRow, s: SessionState, paidOn: string, userId: string | null): Promise<'paid' | 'expired' | 'nothing'> {
  if (s.status === 'expired') {
    if (c.status === 'open') await trx('stripe_checkouts').where({ id: c.id }).update({ status: 'expired', updated_at: trx.fn.now() });
    return 'expired';
  }
  if (s.status !== 'complete' || s.paymentStatus !== 'paid' || !s.paymentIntent) {
    if (s.paymentIntent && !c.payment_intent) await trx('stripe_checkouts').where({ id: c.id }).update({ payment_intent: s.paymentIntent, updated_at: trx.fn.now() });
    return 'nothing';
  }
  const amount = s.amountTotal ?? c.amount_cents;
  const paymentId = await insertPayment(trx, {
    organizationId: c.organization_id, patientId: c.patient_id, quoteId: c.quote_id, depositId: c.deposit_id, method: 'stripe', amountCents: amount,
    paidOn, reference: null, checkoutId: c.id, stripePaymentIntent: s.paymentIntent, recordedBy: userId,
  });
  await trx('stripe_checkouts').where({ id: c.id }).update({ status: 'complete', payment_intent: s.paymentIntent, updated_at: trx.fn.now() });
  if (paymentId) {
    await audit(trx, { action: 'finance.payment.stripe', objectType: 'patient', objectId: c.patient_id, organizationId: c.organization_id, actorUserId: userId, details: { quoteId: c.quote_id, paymentId, amountCents: amount } });
    await applyDeferred(trx, c.organization_id, s.paymentIntent);
  }
  return 'paid';
}

interface RefundFacts { refundId: string; paymentIntent: string; amount: number; status: string; created: number }

async function applyRefund(trx: Tx, organizationId: string, f: RefundFacts): Promise<'applied' | 'deferred' | 'ignored'> {
  const p = await repo.paymentByIntent(trx, f.paymentIntent);
  if (!p) return 'deferred';
  await lockedPayment(trx, p.id);
  if (f.status === 'failed' || f.status === 'canceled') {
    const n = await trx('finance_refunds').where({ stripe_refund_id: f.refundId }).delete();
    return n ? 'applied' : 'ignored';
  }
  const refundedOn = localDay(new Date(f.created * 1000), await organizationTimeZone(trx, organizationId));
  try {
    const fresh = await insertRefund(trx, p, { amountCents: f.amount, refundedOn, method: 'stripe', stripeRefundId: f.refundId, recordedBy: null });
    if (fresh) await audit(trx, { action: 'finance.refund.stripe', objectType: 'patient', objectId: p.patient_id, organizationId, actorUserId: null, details: { paymentId: p.id, amountCents: f.amount } });
    return fresh ? 'applied' : 'ignored';
  } catch (err) {
    if (err instanceof AppError && err.code === 'validation_failed') return 'ignored'; // more than the payment: not ours to believe
    throw err;
  }
}

/** Refund events that came before their payment, applied now that it is there. */
async function applyDeferred(trx: Tx, organizationId: string, paymentIntent: string): Promise<void> {
  const rows = await trx('stripe_events').where({ state: 'deferred' }).whereRaw("deferred->>'paymentIntent' = ?", [paymentIntent]).orderBy('received_at');
  for (const r of rows) {
    const state = await applyRefund(trx, organizationId, r.deferred as RefundFacts);
    await trx('stripe_events').where({ organization_id: organizationId, event_id: r.event_id }).update({ state: state === 'deferred' ? 'deferred' : state, deferred: state === 'deferred' ? r.deferred : null });
  }
}

const str = (v: unknown): string | null => {
  const id = typeof v === 'string' ? v : v && typeof v === 'object' ? (v as { id?: unknown }).id : undefined;
  return typeof id === 'string' && STRIPE_ID.test(id) ? id : null;
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The checkout row of a session. Should it be missing (the transaction that created the session at
 * Stripe failed after the call), it is rebuilt from the session's metadata — our ids only — so a
 * payment made through that link is still recorded against its quote.
 */
async function checkoutForSession(trx: Tx, organizationId: string, obj: Record<string, unknown>): Promise<repo.CheckoutRow | undefined> {
  const sessionId = str(obj.id);
  if (!sessionId) return undefined;
  const found = await repo.checkoutBy(trx, { session_id: sessionId }, true);
  if (found) return found;
  const meta = (obj.metadata ?? {}) as Record<string, unknown>;
  const quoteId = meta.praxiskern_quote;
  const depositId = meta.praxiskern_deposit;
  const checkoutId = meta.praxiskern_checkout;
  if (meta.praxiskern_organization !== organizationId || typeof quoteId !== 'string' || !UUID.test(quoteId) || typeof checkoutId !== 'string' || !UUID.test(checkoutId)) return undefined;
  const q = await repo.quoteById(trx, quoteId);
  const amount = obj.amount_total;
  if (!q || !Number.isSafeInteger(amount) || (amount as number) <= 0) return undefined;
  const deposit = typeof depositId === 'string' && UUID.test(depositId) && (await repo.depositsOf(trx, [quoteId])).some((d) => d.id === depositId) ? depositId : null;
  await trx('stripe_checkouts').insert({ id: checkoutId, organization_id: organizationId, patient_id: q.patient_id, quote_id: quoteId, deposit_id: deposit, session_id: sessionId, url: null, amount_cents: amount }).onConflict('id').ignore();
  return repo.checkoutBy(trx, { session_id: sessionId }, true);
}

/**
 * One verified event, in the organization's scope: recorded by id first (a replay returns
 * 'duplicate' and changes nothing), then applied; an event for an unknown object is ignored.
 */
export async function applyStripeEvent(trx: Tx, organizationId: string, event: Stripe.Event): Promise<'duplicate' | 'applied' | 'ignored' | 'deferred'> {
  const fresh = await trx('stripe_events').insert({ organization_id: organizationId, event_id: event.id, type: String(event.type).slice(0, 100), state: 'ignored' })
    .onConflict(['organization_id', 'event_id']).ignore().returning('event_id');
  if (!fresh.length) return 'duplicate';
  const zone = await organizationTimeZone(trx, organizationId);
  const day = localDay(new Date(event.created * 1000), zone);
  let state: 'applied' | 'ignored' | 'deferred' = 'ignored';
  let deferred: RefundFacts | null = null;
  const obj = event.data.object as unknown as Record<string, unknown>;
  switch (event.type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
    case 'checkout.session.expired': {
      const c = await checkoutForSession(trx, organizationId, obj);
      if (!c) break;
      const r = await applySession(trx, c, {
        status: typeof obj.status === 'string' ? obj.status : null, paymentStatus: typeof obj.payment_status === 'string' ? obj.payment_status : null,
        amountTotal: Number.isSafeInteger(obj.amount_total) ? (obj.amount_total as number) : null, currency: typeof obj.currency === 'string' ? obj.currency : null,
        paymentIntent: str(obj.payment_intent),
      }, day, null);
      state = r === 'nothing' ? 'ignored' : 'applied';
      break;
    }
    case 'refund.created':
    case 'refund.updated':
    case 'charge.refund.updated': {
      const pi = str(obj.payment_intent);
      const refundId = str(obj.id);
      if (!refundId || !pi || !Number.isSafeInteger(obj.amount) || (obj.amount as number) <= 0) break;
      const facts: RefundFacts = { refundId, paymentIntent: pi, amount: obj.amount as number, status: typeof obj.status === 'string' ? obj.status : 'succeeded', created: Number.isSafeInteger(obj.created) ? (obj.created as number) : event.created };
      state = await applyRefund(trx, organizationId, facts);
      if (state === 'deferred') deferred = facts;
      break;
    }
    default:
      break;
  }
  await trx('stripe_events').where({ organization_id: organizationId, event_id: event.id }).update({ state, deferred: deferred ? JSON.stringify(deferred) : null });
  return state;
}
