// The protocol clients: WhatsApp Cloud API (Meta Graph API or 360dialog, the same payloads) over
// fetch, and SMTP with nodemailer (TLS verified, STARTTLS required by default). Credentials are
// read from secret files at each use, so a rotated file needs no restart. A ProviderError says
// whether trying again can help (network, timeout, 429, 5xx) or not (4xx: the request is wrong).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { MessagingConfig } from '../../core/config.ts';

export class ProviderError extends Error {
  readonly retryable: boolean;
  readonly status: number | undefined;
  constructor(message: string, retryable: boolean, status?: number) {
    super(redact(message).slice(0, 900));
    this.retryable = retryable;
    this.status = status;
  }
}

/** Provider errors are stored and shown: addresses and numbers in them are replaced. */
export function redact(text: string): string {
  return text.replace(/[^\s<>"',;:]+@[^\s<>"',;:]+/g, '[address]').replace(/\+?\d[\d\s-]{6,}\d/g, (m) => (m.replace(/\D/g, '').length >= 7 ? '[number]' : m));
}

export class NotConfiguredError extends Error {}

export async function readSecret(file: string | undefined, what: string): Promise<string> {
  if (!file) throw new NotConfiguredError(`${what} is not configured`);
  const v = (await readFile(file, 'utf8').catch(() => { throw new NotConfiguredError(`${what} cannot be read (${path.basename(file)})`); })).trim();
  if (!v) throw new NotConfiguredError(`${what} is empty`);
  return v;
}

export const orgSecretFile = (cfg: MessagingConfig, organizationId: string, name: 'whatsapp-token' | '360dialog-api-key' | '360dialog-webhook-token') =>
  path.join(cfg.secretsDir, organizationId, name);

export type WhatsAppProvider = 'meta' | '360dialog';

export interface WhatsAppTarget {
  provider: WhatsAppProvider;
  phoneNumberId: string;
  organizationId: string;
}

/** A Cloud API message payload: free text (inside the 24 h window) or an approved template. */
export type WhatsAppPayload =
  | { type: 'text'; text: string }
  | { type: 'template'; name: string; languageCode: string; parameters: string[] };

export function cloudApiBody(to: string, payload: WhatsAppPayload, callbackData: string): Record<string, unknown> {
  const base = { messaging_product: 'whatsapp', recipient_type: 'individual', to: to.replace(/^\+/, ''), biz_opaque_callback_data: callbackData };
  if (payload.type === 'text') return { ...base, type: 'text', text: { preview_url: false, body: payload.text } };
  return {
    ...base, type: 'template',
    template: {
      name: payload.name, language: { code: payload.languageCode },
      components: payload.parameters.length ? [{ type: 'body', parameters: payload.parameters.map((text) => ({ type: 'text', text })) }] : [],
    },
  };
}

/** POST /{version}/{phone-number-id}/messages (Meta, Bearer) or POST /messages (360dialog, D360-API-KEY). Returns the wamid. */
export async function sendWhatsApp(cfg: MessagingConfig, target: WhatsAppTarget, to: string, payload: WhatsAppPayload, callbackData: string): Promise<string> {
  const meta = target.provider === 'meta';
  const secret = await readSecret(orgSecretFile(cfg, target.organizationId, meta ? 'whatsapp-token' : '360dialog-api-key'), meta ? 'WhatsApp access token' : '360dialog API key');
  const url = meta ? `${cfg.whatsapp.graphUrl}/${cfg.whatsapp.graphVersion}/${target.phoneNumberId}/messages` : `${cfg.whatsapp.d360Url}/messages`;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(meta ? { authorization: `Bearer ${secret}` } : { 'D360-API-KEY': secret }) };
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(cloudApiBody(to, payload, callbackData)), signal: AbortSignal.timeout(cfg.outbox.providerTimeoutMs) });
  } catch (err) {
    throw new ProviderError(`WhatsApp API not reachable: ${(err as Error).name === 'TimeoutError' ? 'timeout' : (err as Error).message}`, true);
  }
  const text = await res.text().catch(() => '');
  let json: { messages?: { id?: string }[]; error?: { message?: string; code?: number; error_subcode?: number } } = {};
  try {
    json = JSON.parse(text);
  } catch {
    /* a proxy's HTML error page */
  }
  if (!res.ok) {
    const e = json.error;
    const detail = e ? `${e.code ?? ''}${e.error_subcode ? `/${e.error_subcode}` : ''} ${e.message ?? ''}`.trim() : `HTTP ${res.status}`;
    throw new ProviderError(`WhatsApp API ${res.status}: ${detail}`, res.status >= 500 || res.status === 429 || res.status === 408, res.status);
  }
  const id = json.messages?.[0]?.id;
  if (!id) throw new ProviderError('WhatsApp API answered without a message id', true, res.status);
  return id;
}

export interface Mail {
  from: string;
  to: string;
  subject: string;
  text: string;
  /** The outbox id: the Message-ID, so a repeated delivery carries the same id. */
  id: string;
}

let transportKey = '';
let transport: Transporter | undefined;

async function smtpTransport(cfg: MessagingConfig): Promise<Transporter> {
  const s = cfg.smtp;
  if (!s.host) throw new NotConfiguredError('PRAXISKERN_SMTP_HOST is not set');
  const pass = s.passwordFile ? await readSecret(s.passwordFile, 'SMTP password') : undefined;
  const ca = s.caFile ? await readFile(s.caFile, 'utf8') : undefined;
  const key = JSON.stringify([s, pass, ca]);
  if (transport && key === transportKey) return transport;
  transport?.close();
  transportKey = key;
  transport = nodemailer.createTransport({
    host: s.host, port: s.port, secure: s.secure, requireTLS: !s.secure && s.requireTls,
    auth: s.user ? { user: s.user, pass } : undefined,
    tls: { rejectUnauthorized: true, minVersion: 'TLSv1.2', ...(ca ? { ca } : {}) },
    connectionTimeout: cfg.outbox.providerTimeoutMs, greetingTimeout: cfg.outbox.providerTimeoutMs, socketTimeout: cfg.outbox.providerTimeoutMs,
  });
  return transport;
}

export async function sendMail(cfg: MessagingConfig, mail: Mail): Promise<string> {
  const t = await smtpTransport(cfg);
  try {
    const info = await t.sendMail({ from: mail.from, to: mail.to, subject: mail.subject, text: mail.text, messageId: `<${mail.id}@praxiskern>` });
    return String(info.messageId || `<${mail.id}@praxiskern>`);
  } catch (err) {
    const e = err as { responseCode?: number; message: string; code?: string };
    // 5xx SMTP replies are permanent (unknown mailbox, refused); anything else may pass later.
    const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500;
    throw new ProviderError(`SMTP ${e.responseCode ?? e.code ?? ''}: ${e.message}`.trim(), !permanent, e.responseCode);
  }
}

export function closeTransports(): void {
  transport?.close();
  transport = undefined;
  transportKey = '';
}
