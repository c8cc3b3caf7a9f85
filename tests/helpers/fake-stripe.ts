// A local server on loopback that speaks the part of Stripe's API Praxiskern uses, for the real
// `stripe` SDK (host/port/protocol options): create and retrieve Checkout Sessions, create refunds
// (form-encoded bodies, Bearer secret key, Stripe's error shape, Idempotency-Key honoured). It
// keeps every request it received (to check what left the server) and builds and signs webhook
// events like Stripe: header `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<payload>"
// with the whsec secret>`.
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest { method: string; path: string; auth: string | undefined; idempotencyKey: string | undefined; form: Record<string, string>; raw: string }
export interface FakeSession {
  id: string; object: 'checkout.session'; status: 'open' | 'complete' | 'expired'; payment_status: 'unpaid' | 'paid';
  amount_total: number; currency: string; client_reference_id: string | null; metadata: Record<string, string>;
  payment_intent: string | null; url: string; customer_email: string | null; mode: string; created: number; success_url: string; cancel_url: string;
}

const id = (prefix: string) => `${prefix}_test_${randomBytes(12).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);

export interface FakeStripe {
  url: string;
  secretKey: string;
  webhookSecret: string;
  requests: ReceivedRequest[];
  sessions: Map<string, FakeSession>;
  /** Answer the next n API calls with 500 (Stripe's api_error). */
  failNext(n: number): void;
  /** The customer pays the session: complete, paid, with a payment intent. */
  pay(sessionId: string): FakeSession;
  expire(sessionId: string): FakeSession;
  event(type: string, object: unknown, created?: number): { id: string; payload: string };
  signature(payload: string, opts?: { timestamp?: number; secret?: string }): string;
  /** Posts a signed event to the URL; returns status and body. */
  send(url: string, payload: string, opts?: { timestamp?: number; secret?: string; header?: string | null }): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startFakeStripe(): Promise<FakeStripe> {
  const secretKey = `sk_test_${randomBytes(16).toString('hex')}`;
  const webhookSecret = `whsec_${randomBytes(24).toString('base64url')}`;
  const requests: ReceivedRequest[] = [];
  const sessions = new Map<string, FakeSession>();
  const idempotent = new Map<string, string>();
  let failures = 0;
  let base = '';

  const server: Server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const form = Object.fromEntries(new URLSearchParams(req.method === 'GET' ? (req.url ?? '').split('?')[1] ?? '' : raw));
    const path = (req.url ?? '').split('?')[0];
    const r: ReceivedRequest = { method: req.method ?? '', path, auth: req.headers.authorization, idempotencyKey: req.headers['idempotency-key'] as string | undefined, form, raw };
    requests.push(r);
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'request-id': id('req') });
      res.end(JSON.stringify(body));
    };
    const error = (status: number, type: string, message: string, code?: string) => send(status, { error: { type, message, ...(code ? { code } : {}) } });
    if (failures > 0) {
      failures--;
      return error(500, 'api_error', 'An unknown error occurred');
    }
    if (r.auth !== `Bearer ${secretKey}`) return error(401, 'invalid_request_error', 'Invalid API Key provided');
    const replay = r.idempotencyKey ? idempotent.get(`${r.method} ${path} ${r.idempotencyKey}`) : undefined;
    if (replay) {
      res.writeHead(200, { 'content-type': 'application/json', 'idempotent-replayed': 'true' });
      return res.end(replay);
    }
    const remember = (status: number, body: unknown) => {
      if (r.idempotencyKey) idempotent.set(`${r.method} ${path} ${r.idempotencyKey}`, JSON.stringify(body));
      send(status, body);
    };
    if (r.method === 'POST' && path === '/v1/checkout/sessions') {
      const amount = Number(form['line_items[0][price_data][unit_amount]']);
      const qty = Number(form['line_items[0][quantity]'] ?? 1);
      if (!Number.isSafeInteger(amount) || amount < 50) return error(400, 'invalid_request_error', 'Invalid amount', 'parameter_invalid_integer');
      if (form.mode !== 'payment') return error(400, 'invalid_request_error', 'mode must be payment', 'parameter_missing');
      const metadata: Record<string, string> = {};
      for (const [k, v] of Object.entries(form)) {
        const m = /^metadata\[(.+)\]$/.exec(k);
        if (m) metadata[m[1]] = v;
      }
      const sid = id('cs');
      const s: FakeSession = {
        id: sid, object: 'checkout.session', status: 'open', payment_status: 'unpaid', amount_total: amount * qty,
        currency: form['line_items[0][price_data][currency]'], client_reference_id: form.client_reference_id ?? null, metadata,
        payment_intent: null, url: `${base}/pay/${sid}`, customer_email: form.customer_email ?? null, mode: 'payment', created: now(),
        success_url: form.success_url, cancel_url: form.cancel_url,
      };
      sessions.set(sid, s);
      return remember(200, s);
    }
    const get = /^\/v1\/checkout\/sessions\/([^/]+)$/.exec(path);
    if (r.method === 'GET' && get) {
      const s = sessions.get(decodeURIComponent(get[1]));
      return s ? send(200, s) : error(404, 'invalid_request_error', 'No such checkout.session', 'resource_missing');
    }
    if (r.method === 'POST' && path === '/v1/refunds') {
      const pi = form.payment_intent;
      const s = [...sessions.values()].find((x) => x.payment_intent === pi);
      if (!s) return error(400, 'invalid_request_error', 'No such payment_intent', 'resource_missing');
      const amount = Number(form.amount ?? s.amount_total);
      return remember(200, { id: id('re'), object: 'refund', amount, currency: s.currency, payment_intent: pi, status: 'succeeded', created: now(), metadata: {} });
    }
    return error(404, 'invalid_request_error', `Unrecognized request URL (${r.method}: ${path})`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const signature = (payload: string, opts: { timestamp?: number; secret?: string } = {}) => {
    const t = opts.timestamp ?? now();
    const v1 = createHmac('sha256', opts.secret ?? webhookSecret).update(`${t}.${payload}`, 'utf8').digest('hex');
    return `t=${t},v1=${v1}`;
  };
  const session = (sid: string) => {
    const s = sessions.get(sid);
    if (!s) throw new Error(`no session ${sid}`);
    return s;
  };
  return {
    url: base, secretKey, webhookSecret, requests, sessions,
    failNext(n) { failures = n; },
    pay(sid) {
      const s = session(sid);
      Object.assign(s, { status: 'complete', payment_status: 'paid', payment_intent: s.payment_intent ?? id('pi') });
      return { ...s };
    },
    expire(sid) {
      const s = session(sid);
      s.status = 'expired';
      return { ...s };
    },
    event(type, object, created = now()) {
      const eid = id('evt');
      return { id: eid, payload: JSON.stringify({ id: eid, object: 'event', api_version: '2025-01-27.acacia', created, type, livemode: false, pending_webhooks: 1, request: { id: null, idempotency_key: null }, data: { object } }, null, 2) };
    },
    signature,
    async send(url, payload, opts = {}) {
      const header = opts.header === undefined ? signature(payload, opts) : opts.header;
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(header === null ? {} : { 'stripe-signature': header }) }, body: payload });
      const text = await res.text();
      let body: unknown = text;
      try { body = JSON.parse(text); } catch { /* not JSON */ }
      return { status: res.status, body };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
