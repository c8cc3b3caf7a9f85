// POST /webhooks/stripe/<organization id> (outside /api/v1, like the WhatsApp webhook): Stripe's
// events for one organization's Stripe account. Checked before anything is stored: size (413),
// the organization's signing secret installed (503), then the Stripe-Signature header with the
// official SDK over the raw body (stripe.webhooks.constructEvent: HMAC-SHA256 of
// "<t>.<body>" with the whsec secret, t within the tolerance) — forged, missing or old → 400 and
// nothing recorded. A verified event is applied at once in the organization's scope; its id makes
// a replay a no-op (answered 200 so Stripe stops retrying).
import type { Context, Next } from 'koa';
import type Stripe from 'stripe';
import { AppError } from '../../core/errors.ts';
import { log } from '../../core/context.ts';
import { withScope } from '../../db/connection.ts';
import { readRaw } from '../../http/middleware/json-body.ts';
import type { Services } from '../../http/services.ts';
import { SYSTEM_USER_ID } from '../../core/system-jobs.ts';
import { readStripeSecret, webhookVerifier } from './stripe.client.ts';
import { applyStripeEvent, STRIPE_ID, STRIPE_WEBHOOK_PREFIX } from './stripe.service.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function stripeWebhook(services: Services) {
  return async function stripeWebhookHandler(ctx: Context, next: Next) {
    if (!ctx.path.startsWith(STRIPE_WEBHOOK_PREFIX)) return next();
    if (ctx.method !== 'POST') {
      ctx.set('allow', 'POST');
      throw new AppError(405, 'method_not_allowed', 'Only POST');
    }
    const organizationId = ctx.path.slice(STRIPE_WEBHOOK_PREFIX.length);
    if (!UUID.test(organizationId)) throw new AppError(404, 'not_found', 'No such webhook');
    if (services.seal.isSealed) throw new AppError(503, 'sealed', 'The server is sealed');
    const cfg = services.config.finance;
    const raw = await readRaw(ctx, cfg.webhookMaxBytes);
    const secret = await readStripeSecret(cfg, organizationId, 'stripe-webhook-secret');
    if (!secret) throw new AppError(503, 'not_configured', 'Stripe webhooks are not configured for this organization');
    const header = ctx.get('stripe-signature');
    let event: Stripe.Event;
    try {
      event = webhookVerifier.webhooks.constructEvent(raw, header, secret, cfg.webhookToleranceSeconds);
    } catch {
      throw new AppError(400, 'invalid_signature', 'Stripe-Signature is missing, does not match the body, or is too old', [{ field: 'header.stripe-signature', message: 'is missing, does not match the body, or is too old', code: 'invalid_signature' }]);
    }
    if (!event || typeof event.id !== 'string' || !STRIPE_ID.test(event.id) || typeof event.type !== 'string' || !/^[a-z0-9_.]{1,100}$/.test(event.type)
      || !event.data || typeof event.data.object !== 'object' || event.data.object === null || !Number.isSafeInteger(event.created)) {
      throw new AppError(400, 'bad_request', 'body: is not a Stripe event', [{ field: 'body', message: 'is not a Stripe event' }]);
    }
    const outcome = await withScope(services.db, { organizationId, userId: SYSTEM_USER_ID }, (trx) => applyStripeEvent(trx, organizationId, event));
    log().info({ stripeEvent: event.type, outcome }, 'stripe webhook');
    ctx.status = 200;
    ctx.body = { received: true, outcome };
  };
}
