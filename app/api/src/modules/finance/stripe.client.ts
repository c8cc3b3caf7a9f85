// The Stripe API through the official SDK, per organization (its own secret key, a secret file),
// behind a circuit breaker (cockatiel): after `breakerFailures` consecutive connection errors,
// timeouts or 5xx answers the calls fail at once (503 stripe_unavailable) until a trial call after
// `breakerHalfOpenSeconds` succeeds. A 4xx answer from Stripe is the request's fault, not Stripe's:
// it does not count and becomes a 502 naming Stripe's error code (never its message text).
// Only amounts, the currency, a neutral description ("Rechnung/Anzahlung <reference>") and our ids
// go to Stripe; the patient's name and e-mail only when the organization switched that on.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Stripe from 'stripe';
import { BrokenCircuitError, circuitBreaker, ConsecutiveBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import { AppError } from '../../core/errors.ts';
import type { FinanceConfig } from './finance.config.ts';

export type StripeSecret = 'stripe-secret-key' | 'stripe-webhook-secret';
export const stripeSecretFile = (cfg: FinanceConfig, organizationId: string, name: StripeSecret) => path.join(cfg.secretsDir, organizationId, name);

/** The secret, or undefined when its file is missing or empty. */
export async function readStripeSecret(cfg: FinanceConfig, organizationId: string, name: StripeSecret): Promise<string | undefined> {
  const v = await readFile(stripeSecretFile(cfg, organizationId, name), 'utf8').then((s) => s.trim(), () => '');
  return v || undefined;
}

class TransientStripeError extends Error {}

const breakers = new Map<string, CircuitBreakerPolicy>();
function breakerFor(cfg: FinanceConfig, organizationId: string): CircuitBreakerPolicy {
  let b = breakers.get(organizationId);
  if (!b) {
    b = circuitBreaker(handleWhen((e) => e instanceof TransientStripeError), {
      halfOpenAfter: cfg.breakerHalfOpenSeconds * 1000,
      breaker: new ConsecutiveBreaker(cfg.breakerFailures),
    });
    breakers.set(organizationId, b);
  }
  return b;
}

/** Test hook: forget the breakers' state (each test server is a new process in production). */
export function resetStripeBreakers(): void {
  breakers.clear();
}

function sdk(cfg: FinanceConfig, secretKey: string): Stripe {
  return new Stripe(secretKey, {
    maxNetworkRetries: 0,
    timeout: cfg.stripeTimeoutMs,
    telemetry: false,
    ...(cfg.stripeApi ? { host: cfg.stripeApi.host, port: cfg.stripeApi.port, protocol: cfg.stripeApi.protocol } : {}),
  });
}

/** A webhook verifier that needs no API key (signature check only). */
export const webhookVerifier = new Stripe('sk_unused_for_webhook_verification');

export const stripeUnavailable = () => new AppError(503, 'stripe_unavailable', 'Stripe cannot be reached at the moment; try again later');

async function call<T>(cfg: FinanceConfig, organizationId: string, fn: (s: Stripe) => Promise<T>): Promise<T> {
  const key = await readStripeSecret(cfg, organizationId, 'stripe-secret-key');
  if (!key) throw new AppError(409, 'stripe_not_configured', 'The Stripe secret key of this organization is not installed on the server');
  const client = sdk(cfg, key);
  try {
    return await breakerFor(cfg, organizationId).execute(async () => {
      try {
        return await fn(client);
      } catch (err) {
        const e = err as { type?: string; statusCode?: number };
        const transient = e.type === 'StripeConnectionError' || e.type === 'StripeAPIError' || (e.statusCode ?? 0) >= 500 || e.statusCode === 429;
        throw transient ? new TransientStripeError(e.type ?? 'connection') : err;
      }
    });
  } catch (err) {
    if (err instanceof BrokenCircuitError || err instanceof TransientStripeError) throw stripeUnavailable();
    const e = err as { type?: string; code?: string; statusCode?: number };
    if (e.type === 'StripeAuthenticationError') throw new AppError(502, 'stripe_rejected', 'Stripe refused the secret key of this organization', { stripeError: 'authentication' });
    if (typeof e.type === 'string' && e.type.startsWith('Stripe')) throw new AppError(502, 'stripe_rejected', 'Stripe refused the request', { stripeError: e.code ?? e.type });
    throw err;
  }
}

export interface CheckoutRequest {
  amountCents: number;
  currency: 'EUR';
  /** "Rechnung KV-…" / "Anzahlung AZ-…": never a treatment. */
  description: string;
  /** Our checkout row id: client_reference_id, metadata and idempotency key. */
  checkoutId: string;
  organizationId: string;
  /** Our ids (no personal data): lets a webhook find the quote even if the checkout row is missing. */
  quoteId: string;
  depositId: string | null;
  successUrl: string;
  cancelUrl: string;
  customerEmail?: string;
  customerName?: string;
}

export async function createCheckoutSession(cfg: FinanceConfig, r: CheckoutRequest): Promise<{ id: string; url: string | null; status: string | null; paymentIntent: string | null }> {
  const s = await call(cfg, r.organizationId, (stripe) => stripe.checkout.sessions.create({
    mode: 'payment',
    client_reference_id: r.checkoutId,
    line_items: [{ quantity: 1, price_data: { currency: r.currency.toLowerCase(), unit_amount: r.amountCents, product_data: { name: r.description } } }],
    metadata: { praxiskern_checkout: r.checkoutId, praxiskern_organization: r.organizationId, praxiskern_quote: r.quoteId, ...(r.depositId ? { praxiskern_deposit: r.depositId } : {}) },
    payment_intent_data: { description: r.description, metadata: { praxiskern_checkout: r.checkoutId, praxiskern_organization: r.organizationId } },
    success_url: r.successUrl,
    cancel_url: r.cancelUrl,
    ...(r.customerEmail ? { customer_email: r.customerEmail } : {}),
  }, { idempotencyKey: `praxiskern-checkout-${r.checkoutId}` }));
  return { id: s.id, url: s.url ?? null, status: s.status ?? null, paymentIntent: typeof s.payment_intent === 'string' ? s.payment_intent : s.payment_intent?.id ?? null };
}

export async function retrieveCheckoutSession(cfg: FinanceConfig, organizationId: string, sessionId: string) {
  const s = await call(cfg, organizationId, (stripe) => stripe.checkout.sessions.retrieve(sessionId));
  return {
    id: s.id, status: s.status ?? null, paymentStatus: s.payment_status, amountTotal: s.amount_total ?? null, currency: s.currency ?? null,
    paymentIntent: typeof s.payment_intent === 'string' ? s.payment_intent : s.payment_intent?.id ?? null,
  };
}

export async function createRefund(cfg: FinanceConfig, organizationId: string, paymentIntent: string, amountCents: number, idempotencyKey: string) {
  const r = await call(cfg, organizationId, (stripe) => stripe.refunds.create({ payment_intent: paymentIntent, amount: amountCents, metadata: { praxiskern_organization: organizationId } }, { idempotencyKey }));
  return { id: r.id, amount: r.amount, status: r.status ?? null };
}
