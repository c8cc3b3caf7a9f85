// /webhooks/whatsapp (outside /api/v1; the proxy lets it through): the GET verification handshake
// and authenticated POSTs. A POST is checked before anything is stored — size (413), then one of
// two schemes (401 when it fails; the header present selects the scheme, both at once is refused):
// - Meta: X-Hub-Signature-256 = HMAC-SHA256 of the raw body with the app secret (constant time);
// - 360dialog (which does not sign): X-Praxiskern-Webhook-Token, the secret the organization
//   registered with 360dialog as a custom webhook header. Every phone number id in the body must
//   belong to an organization whose WhatsApp provider is 360dialog and whose
//   <secrets dir>/<organization id>/360dialog-webhook-token matches (constant time), so a token
//   never authenticates events for a Meta number (no downgrade) or for another organization;
// — JSON (400) — then kept in webhook_events (sealed with an installation key) and answered 200 at once; the
// worker applies it (webhook.processor.ts).
import { createHmac, createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { AppError, badRequest } from '../../core/errors.ts';
import { withScope } from '../../db/connection.ts';
import { readRaw } from '../../http/middleware/json-body.ts';
import type { Services } from '../../http/services.ts';
import { seal } from '../keystore/keystore.crypto.ts';
import { messagingMetrics } from './messaging.metrics.ts';
import { channelRow, insertWebhookEvent, organizationForNumber } from './messaging.repository.ts';
import { NotConfiguredError, orgSecretFile, readSecret } from './providers.repository.ts';
import { SYSTEM_USER_ID } from '../../core/system-jobs.ts';

export const WEBHOOK_PATH = '/webhooks/whatsapp';
export const TOKEN_HEADER = 'x-praxiskern-webhook-token';
const MAX_NUMBERS_PER_EVENT = 10;
const WEBHOOK_AAD = 'praxiskern:webhook-event:v1';

/** The key that seals raw webhook bodies until processed: derived from the installation key. */
export const webhookKey = (appKey: Buffer) => createHash('sha256').update(appKey).update('webhook-events').digest();
export const sealWebhookBody = (appKey: Buffer, body: Buffer) => seal(webhookKey(appKey), body, WEBHOOK_AAD);
export { WEBHOOK_AAD };

function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/** "sha256=<64 hex>" → true when it is the HMAC of the raw body (constant-time). */
export function validSignature(header: string | undefined, raw: Buffer, appSecret: string): boolean {
  const m = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? '');
  if (!m) return false;
  const expected = createHmac('sha256', appSecret).update(raw).digest();
  return timingSafeEqual(expected, Buffer.from(m[1], 'hex'));
}

/** The phone number ids a Cloud API webhook body names (entry[].changes[].value.metadata). */
export function webhookNumberIds(body: unknown): string[] {
  const ids = new Set<string>();
  const entries = (body as { entry?: unknown })?.entry;
  for (const entry of Array.isArray(entries) ? entries : []) {
    const changes = (entry as { changes?: unknown })?.changes;
    for (const change of Array.isArray(changes) ? changes : []) {
      const id = (change as { value?: { metadata?: { phone_number_id?: unknown } } })?.value?.metadata?.phone_number_id;
      if (typeof id === 'string' || typeof id === 'number') ids.add(String(id));
    }
  }
  return [...ids];
}

const refused = (status: number, code: string, message: string) => new AppError(status, code, message);

async function secret(file: string | undefined, what: string): Promise<string> {
  try {
    return await readSecret(file, what);
  } catch (err) {
    if (err instanceof NotConfiguredError) throw refused(503, 'not_configured', 'WhatsApp webhooks are not configured on this server');
    throw err;
  }
}

export function whatsappWebhook(services: Services) {
  const metrics = messagingMetrics(services.metrics.registry);
  const cfg = services.config.messaging;
  /** True when the body names at least one number and every one belongs to a 360dialog organization whose token matches. */
  async function validD360Token(body: unknown, token: string): Promise<boolean> {
    const ids = webhookNumberIds(body);
    // a delivery names one number (at most a few): more is refused rather than looked up one by one
    if (ids.length === 0 || ids.length > MAX_NUMBERS_PER_EVENT) return false;
    let ok = true;
    for (const id of ids) {
      const org = await organizationForNumber(services.db, id);
      if (!org) { ok = false; continue; }
      const provider = await withScope(services.db, { organizationId: org, userId: SYSTEM_USER_ID }, async (trx) => (await channelRow(trx, org)).whatsapp_provider);
      const expected = provider === '360dialog' ? await readSecret(orgSecretFile(cfg, org, '360dialog-webhook-token'), '360dialog webhook token').catch(() => undefined) : undefined;
      // compared even when nothing is expected, so the answer takes as long either way
      if (!sameSecret(token, expected ?? '') || expected === undefined) ok = false;
    }
    return ok;
  }

  return async function whatsappWebhookHandler(ctx: Context, next: Next) {
    if (ctx.path !== WEBHOOK_PATH) return next();
    if (ctx.method === 'GET') {
      const mode = ctx.query['hub.mode'];
      const token = ctx.query['hub.verify_token'];
      const challenge = ctx.query['hub.challenge'];
      if (mode !== 'subscribe' || typeof token !== 'string') throw badRequest('hub.mode must be subscribe with a hub.verify_token', [{ field: 'query.hub.mode', message: 'must be subscribe' }]);
      if (typeof challenge !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(challenge)) throw badRequest('hub.challenge is missing or malformed', [{ field: 'query.hub.challenge', message: 'must be 1–128 letters or digits' }]);
      if (!sameSecret(token, await secret(cfg.whatsapp.verifyTokenFile, 'WhatsApp verify token'))) {
        metrics.webhookFailures.inc({ reason: 'verify_token' });
        throw refused(403, 'forbidden', 'hub.verify_token does not match');
      }
      ctx.type = 'text/plain';
      ctx.body = challenge;
      return;
    }
    if (ctx.method !== 'POST') {
      ctx.set('allow', 'GET, POST');
      throw refused(405, 'method_not_allowed', 'Only GET (verification) and POST (events)');
    }
    const raw = await readRaw(ctx, cfg.webhookMaxBytes);
    const header = ctx.get('x-hub-signature-256');
    const token = ctx.get(TOKEN_HEADER);
    if (header && token) {
      metrics.webhookFailures.inc({ reason: 'ambiguous' });
      throw refused(401, 'invalid_signature', 'X-Hub-Signature-256 and X-Praxiskern-Webhook-Token must not both be sent');
    }
    let parsed: unknown;
    let jsonOk = true;
    try {
      parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
    } catch {
      jsonOk = false;
    }
    if (token) {
      // 360dialog: authenticated per organization, through the numbers the body names.
      if (!jsonOk || !(await validD360Token(parsed, token))) {
        metrics.webhookFailures.inc({ reason: 'bad_token' });
        throw refused(401, 'invalid_signature', 'X-Praxiskern-Webhook-Token does not match the 360dialog token of every number in the body');
      }
    } else {
      const appSecret = await secret(cfg.whatsapp.appSecretFile, 'WhatsApp app secret');
      if (!validSignature(header || undefined, raw, appSecret)) {
        metrics.webhookFailures.inc({ reason: header ? 'bad_signature' : 'missing_signature' });
        throw refused(401, 'invalid_signature', 'X-Hub-Signature-256 is missing or does not match the body');
      }
    }
    if (!jsonOk) throw badRequest('body: is not valid JSON', [{ field: 'body', message: 'is not valid JSON', code: 'invalid_json' }]);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw badRequest('body: must be a JSON object', [{ field: 'body', message: 'must be a JSON object' }]);
    await insertWebhookEvent(services.db, sealWebhookBody(services.appKey, raw));
    ctx.status = 200;
    ctx.body = { received: true };
  };
}
