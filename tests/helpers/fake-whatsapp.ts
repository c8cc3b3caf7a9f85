// A local server that speaks the WhatsApp Cloud API on loopback, in both flavours: Meta's Graph API
// (POST /{version}/{phone-number-id}/messages, Bearer token) and 360dialog (POST /messages,
// D360-API-KEY). It records every request, answers with wamids, can fail (5xx), refuse (4xx) or
// answer slowly, and builds and sends webhooks signed like Meta's (X-Hub-Signature-256) or, like
// 360dialog's, carrying the organization's custom token header (postD360Webhook).
import http from 'node:http';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  flavour: 'meta' | '360dialog';
  phoneNumberId: string | undefined;
  auth: string | undefined;
  body: any;
  wamid: string | undefined;
  status: number;
  at: number;
}

export interface FakeWhatsApp {
  url: string;
  requests: RecordedRequest[];
  /** 'ok' answers 200; 'down' answers 503; 'refuse' answers 400 (invalid parameter). */
  mode: 'ok' | 'down' | 'refuse';
  delayMs: number;
  token: string;
  apiKey: string;
  /** Called after an answer was written (the kill test SIGKILLs the worker here). */
  onAnswered?: (r: RecordedRequest) => void;
  /**
   * Inbound media it serves: GET /{version}/{media-id} (Bearer) or GET /{media-id} (D360-API-KEY) →
   * { url, mime_type, sha256, file_size }; GET the url (same credential) → the bytes. `sha256` and
   * `fileSize` override what it announces (a wrong digest, a smaller declared size).
   */
  media: Map<string, { data: Buffer; mimeType: string; sha256?: string; fileSize?: number }>;
  /** Every media request: [flavour, 'info' | 'data', media id, HTTP status]. */
  mediaRequests: { flavour: 'meta' | '360dialog'; what: 'info' | 'data'; id: string; status: number }[];
  /** Called when a request arrived, before it is answered. */
  onRequest?: (r: RecordedRequest) => void;
  close(): Promise<void>;
}

export async function startFakeWhatsApp(opts: { token?: string; apiKey?: string } = {}): Promise<FakeWhatsApp> {
  let n = 0;
  const fake = {
    url: '', requests: [] as RecordedRequest[], mode: 'ok' as FakeWhatsApp['mode'], delayMs: 0,
    token: opts.token ?? randomBytes(16).toString('hex'), apiKey: opts.apiKey ?? randomBytes(16).toString('hex'),
    media: new Map() as FakeWhatsApp['media'], mediaRequests: [] as FakeWhatsApp['mediaRequests'],
  } as FakeWhatsApp;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const meta = /^\/v\d+\.\d+\/(\d+)\/messages$/.exec(req.url ?? '');
      const d360 = req.url === '/messages';
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'GET') {
        // media: info (Meta /vX.Y/<id>, 360dialog /<id>) and data (/whatsapp_business/attachments/?mid=<id>)
        const u = new URL(req.url ?? '/', 'http://x');
        const info = /^\/(v\d+\.\d+\/)?([\w.-]+)$/.exec(u.pathname);
        const isData = u.pathname === '/whatsapp_business/attachments/';
        if (!info && !isData) return send(404, { error: { message: 'Unknown path', code: 100 } });
        const bearer = req.headers.authorization === `Bearer ${fake.token}`;
        const d360key = req.headers['d360-api-key'] === fake.apiKey;
        const flavour: 'meta' | '360dialog' = info ? (info[1] ? 'meta' : '360dialog') : (bearer ? 'meta' : '360dialog');
        const id = info ? info[2] : u.searchParams.get('mid') ?? '';
        const rec = { flavour, what: (info ? 'info' : 'data') as 'info' | 'data', id, status: 0 };
        fake.mediaRequests.push(rec);
        const item = fake.media.get(id);
        const authorized = info ? (flavour === 'meta' ? bearer : d360key) : (bearer || d360key);
        rec.status = !authorized ? 401 : fake.mode === 'down' ? 503 : !item ? 404 : 200;
        if (rec.status === 401) return send(401, { error: { message: 'Invalid OAuth access token', code: 190 } });
        if (rec.status === 503) return send(503, { error: { message: 'Service temporarily unavailable', code: 2 } });
        if (rec.status === 404) return send(404, { error: { message: 'Unsupported get request', code: 100 } });
        if (info) {
          const host = flavour === 'meta' ? fake.url : 'https://lookaside.fbsbx.com';
          return send(200, {
            messaging_product: 'whatsapp', id, url: `${host}/whatsapp_business/attachments/?mid=${id}&ext=1&hash=x`, mime_type: item!.mimeType,
            sha256: item!.sha256 ?? createHash('sha256').update(item!.data).digest('hex'), file_size: item!.fileSize ?? item!.data.length,
          });
        }
        res.writeHead(200, { 'content-type': item!.mimeType, 'content-length': String(item!.data.length) });
        return res.end(item!.data);
      }
      if (req.method !== 'POST' || (!meta && !d360)) return send(404, { error: { message: 'Unknown path', code: 100 } });
      let body: any;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(400, { error: { message: 'Invalid JSON', code: 100 } });
      }
      const r: RecordedRequest = {
        flavour: meta ? 'meta' : '360dialog', phoneNumberId: meta?.[1], auth: meta ? req.headers.authorization : (req.headers['d360-api-key'] as string | undefined),
        body, wamid: undefined, status: 0, at: Date.now(),
      };
      fake.onRequest?.(r);
      if (fake.delayMs) await new Promise((res2) => setTimeout(res2, fake.delayMs));
      const authorized = meta ? r.auth === `Bearer ${fake.token}` : r.auth === fake.apiKey;
      if (!authorized) r.status = 401;
      else if (fake.mode === 'down') r.status = 503;
      else if (fake.mode === 'refuse' || body.messaging_product !== 'whatsapp' || !/^\d{7,15}$/.test(String(body.to))) r.status = 400;
      else r.status = 200;
      fake.requests.push(r);
      if (r.status === 401) send(401, { error: { message: 'Invalid OAuth access token', code: 190 } });
      else if (r.status === 503) send(503, { error: { message: 'Service temporarily unavailable', code: 2 } });
      else if (r.status === 400) send(400, { error: { message: '(#100) Invalid parameter', code: 100 } });
      else {
        r.wamid = `wamid.${(++n).toString(36)}${randomBytes(6).toString('hex')}`;
        send(200, { messaging_product: 'whatsapp', contacts: [{ input: body.to, wa_id: body.to }], messages: [{ id: r.wamid }] });
      }
      fake.onAnswered?.(r);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => new Promise((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
  return fake;
}

export function sign(body: string | Buffer, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}

export function statusEvent(phoneNumberId: string, statuses: { id: string; status: string; recipient?: string; callback?: string; error?: { code: number; title: string } }[]) {
  return {
    object: 'whatsapp_business_account',
    entry: [{
      id: 'WABA', changes: [{
        field: 'messages',
        value: {
          messaging_product: 'whatsapp', metadata: { display_phone_number: '4930123456', phone_number_id: phoneNumberId },
          statuses: statuses.map((s) => ({
            id: s.id, status: s.status, timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: s.recipient ?? '491600000000',
            ...(s.callback ? { biz_opaque_callback_data: s.callback } : {}), ...(s.error ? { errors: [s.error] } : {}),
          })),
        },
      }],
    }],
  };
}

export function inboundEvent(phoneNumberId: string, m: { id: string; from: string; name?: string; type?: string; text?: string; media?: Record<string, unknown> }) {
  const type = m.type ?? 'text';
  return {
    object: 'whatsapp_business_account',
    entry: [{
      id: 'WABA', changes: [{
        field: 'messages',
        value: {
          messaging_product: 'whatsapp', metadata: { display_phone_number: '4930123456', phone_number_id: phoneNumberId },
          contacts: [{ profile: { name: m.name ?? 'Someone' }, wa_id: m.from }],
          messages: [{ from: m.from, id: m.id, timestamp: String(Math.floor(Date.now() / 1000)), type, ...(type === 'text' ? { text: { body: m.text ?? '' } } : { [type]: m.media ?? {} }) }],
        },
      }],
    }],
  };
}

/** POSTs an event to the app's webhook, signed with appSecret (or with the given signature header). */
export async function postWebhook(baseUrl: string, event: unknown, appSecret: string, opts: { signature?: string | null; raw?: string | Buffer; contentType?: string } = {}) {
  const body = opts.raw ?? JSON.stringify(event);
  const headers: Record<string, string> = { 'content-type': opts.contentType ?? 'application/json' };
  const sig = opts.signature === undefined ? sign(body, appSecret) : opts.signature;
  if (sig !== null) headers['x-hub-signature-256'] = sig;
  const res = await fetch(`${baseUrl}/webhooks/whatsapp`, { method: 'POST', headers, body });
  return { status: res.status, body: await res.text() };
}

/**
 * POSTs an event the way 360dialog delivers it: unsigned, with the custom header the organization
 * registered (POST {360dialog}/v1/configs/webhook {"url", "headers": {"X-Praxiskern-Webhook-Token": …}}).
 * token null sends no header; signature adds an X-Hub-Signature-256 as well.
 */
export async function postD360Webhook(baseUrl: string, event: unknown, token: string | null, opts: { signature?: string; raw?: string } = {}) {
  const body = opts.raw ?? JSON.stringify(event);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers['x-praxiskern-webhook-token'] = token;
  if (opts.signature) headers['x-hub-signature-256'] = opts.signature;
  const res = await fetch(`${baseUrl}/webhooks/whatsapp`, { method: 'POST', headers, body });
  return { status: res.status, body: await res.text() };
}
