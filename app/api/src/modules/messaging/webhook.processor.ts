// Applies stored WhatsApp webhook events (worker): status updates move outbox messages forward
// (never back), inbound messages are stored encrypted and matched to a patient through the phone
// blind index; unknown senders become prospects (Interessenten). Every status and message id is
// applied once (webhook_seen), so a redelivered event changes nothing. The raw body is erased
// from webhook_events once processed.
import { createHash, randomUUID } from 'node:crypto';
import { withScope, type Tx } from '../../db/connection.ts';
import { log } from '../../core/context.ts';
import type { Services } from '../../http/services.ts';
import { open } from '../keystore/keystore.crypto.ts';
import { blindToken, phoneDigits } from '../patients/blind-index.ts';
import { patientKey, searchKey, sealJson } from '../patients/patient.crypto.ts';
import { SYSTEM_USER_ID } from '../../core/system-jobs.ts';
import * as repo from './messaging.repository.ts';
import { messagingMetrics } from './messaging.metrics.ts';
import { redact } from './providers.repository.ts';
import { WEBHOOK_AAD, webhookKey } from './webhook.routes.ts';

const MAX_EVENT_ATTEMPTS = 10;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface CloudStatus { id?: string; status?: string; biz_opaque_callback_data?: string; errors?: { code?: number; title?: string; message?: string }[] }
interface CloudMessage {
  id?: string; from?: string; timestamp?: string; type?: string;
  text?: { body?: string };
  image?: { id?: string; mime_type?: string; sha256?: string; caption?: string };
  document?: { id?: string; mime_type?: string; sha256?: string; filename?: string; caption?: string };
  audio?: { id?: string; mime_type?: string; sha256?: string; voice?: boolean };
  video?: { id?: string; mime_type?: string; sha256?: string; caption?: string };
}
interface CloudValue { metadata?: { phone_number_id?: string }; statuses?: CloudStatus[]; messages?: CloudMessage[]; contacts?: { wa_id?: string; profile?: { name?: string } }[] }

const seenKey = (kind: string, id: string) => createHash('sha256').update(`whatsapp:${kind}:${id}`).digest();
export const prospectKey = (organizationId: string, prospectId: string) => ({ organizationId, scope: 'prospect', scopeId: prospectId });

export function inboundKind(m: CloudMessage): string {
  if (m.type === 'audio') return m.audio?.voice ? 'voice' : 'audio';
  return ['text', 'image', 'document', 'video'].includes(m.type ?? '') ? m.type! : 'other';
}

function inboundContent(m: CloudMessage): Record<string, unknown> {
  const media = m.image ?? m.document ?? m.audio ?? m.video;
  return {
    type: m.type ?? 'unknown', text: m.text?.body ?? null,
    media: media ? { id: media.id ?? null, mimeType: media.mime_type ?? null, sha256: (media as { sha256?: string }).sha256 ?? null, filename: (media as { filename?: string }).filename ?? null, caption: (media as { caption?: string }).caption ?? null } : null,
  };
}

export class WebhookProcessor {
  readonly services: Services;
  constructor(services: Services) {
    this.services = services;
  }

  #lastPrune = 0;

  /** At most once an hour: old receipts and seen ids (messaging.repository.ts pruneWebhookTables). */
  async prune(force = false): Promise<{ events: number; seen: number } | undefined> {
    if (!force && Date.now() - this.#lastPrune < 3_600_000) return undefined;
    this.#lastPrune = Date.now();
    return repo.pruneWebhookTables(this.services.db);
  }

  /** Processes pending events; returns how many. Waits while sealed (inbound content needs the keys). */
  async runOnce(limit = 50): Promise<number> {
    await this.prune().catch((err) => log().warn({ err: (err as Error).message }, 'webhook prune failed'));
    if (this.services.seal.isSealed) return 0;
    return this.services.db.transaction(async (lock) => {
      const events = await repo.claimWebhookEvents(lock, limit);
      for (const e of events) {
        try {
          const body = JSON.parse(open(webhookKey(this.services.appKey), e.body, WEBHOOK_AAD).toString('utf8')) as { entry?: { changes?: { value?: CloudValue }[] }[] };
          for (const entry of Array.isArray(body.entry) ? body.entry : []) {
            for (const change of Array.isArray(entry?.changes) ? entry.changes : []) if (change?.value) await this.#apply(change.value);
          }
          await repo.finishWebhookEvent(lock, e.id);
        } catch (err) {
          log().warn({ err: (err as Error).message, webhookEvent: e.id }, 'webhook event not applied');
          if (e.attempts + 1 >= MAX_EVENT_ATTEMPTS) await repo.finishWebhookEvent(lock, e.id, (err as Error).message);
          else await repo.retryWebhookEvent(lock, e.id, (err as Error).message);
        }
      }
      return events.length;
    });
  }

  async #apply(v: CloudValue): Promise<void> {
    const metrics = messagingMetrics(this.services.metrics.registry);
    const numberId = v.metadata?.phone_number_id;
    const org = numberId ? await repo.organizationForNumber(this.services.db, String(numberId)) : undefined;
    if (!org) {
      metrics.webhookEvents.inc({ kind: 'unknown_number' });
      return;
    }
    await withScope(this.services.db, { organizationId: org, userId: SYSTEM_USER_ID }, async (trx) => {
      for (const s of Array.isArray(v.statuses) ? v.statuses : []) {
        if (!s?.id || !['sent', 'delivered', 'read', 'failed'].includes(s.status ?? '')) continue;
        if (!(await repo.markSeen(trx, seenKey(`status:${s.status}`, s.id)))) {
          metrics.webhookEvents.inc({ kind: 'duplicate' });
          continue;
        }
        await this.#status(trx, s);
        metrics.webhookEvents.inc({ kind: 'status' });
      }
      for (const m of Array.isArray(v.messages) ? v.messages : []) {
        if (!m?.id || !m.from) continue;
        if (!(await repo.markSeen(trx, seenKey('message', m.id)))) {
          metrics.webhookEvents.inc({ kind: 'duplicate' });
          continue;
        }
        const name = v.contacts?.find((c) => c.wa_id === m.from)?.profile?.name;
        await this.#inbound(trx, org, m, name);
        metrics.webhookEvents.inc({ kind: 'inbound' });
      }
    });
  }

  async #status(trx: Tx, s: CloudStatus): Promise<void> {
    const status = s.status as 'sent' | 'delivered' | 'read' | 'failed';
    const err = s.errors?.[0];
    const extra = status === 'failed' ? { last_error: redact(`WhatsApp ${err?.code ?? ''} ${err?.title ?? err?.message ?? 'failed'}`.trim()).slice(0, 900) } : {};
    // Our id comes back in biz_opaque_callback_data: a status can be applied even when the worker
    // crashed before it recorded the provider's answer (and then the message is not sent again).
    if (s.biz_opaque_callback_data && UUID.test(s.biz_opaque_callback_data)) {
      const row = await trx('outbox_messages').where({ id: s.biz_opaque_callback_data }).first('id', 'provider_message_id', 'provider');
      if (row) {
        await repo.advanceStatus(trx, { id: row.id }, status, { ...extra, ...(row.provider_message_id ? {} : { provider_message_id: s.id }) });
        return;
      }
    }
    for (const provider of ['meta', '360dialog']) {
      if (await repo.advanceStatus(trx, { provider, providerMessageId: s.id }, status, extra)) return;
    }
  }

  async #inbound(trx: Tx, org: string, m: CloudMessage, profileName: string | undefined): Promise<void> {
    const digits = phoneDigits(`+${String(m.from).replace(/^\+/, '')}`);
    const key = await this.services.keys.blobKey(trx, searchKey(org));
    const token = digits ? blindToken(key, { kind: 'phone', value: digits }) : undefined;
    const patients = token ? await repo.patientsByPhoneToken(trx, token) : [];
    const id = randomUUID();
    const receivedAt = m.timestamp && /^\d{1,12}$/.test(m.timestamp) ? new Date(Number(m.timestamp) * 1000) : new Date();
    const content = inboundContent(m);
    const provider = (await repo.channelRow(trx, org)).whatsapp_provider;
    // media with an id is downloaded by the worker (media.fetcher.ts); 'other' kinds are not
    const media_state = (content.media as { id: string | null } | null)?.id && inboundKind(m) !== 'other' ? 'pending' as const : null;
    if (patients.length) {
      const patientId = patients[0];
      const sealed = await sealJson(this.services.keys, trx, patientKey(org, patientId), `inbound:${id}`, { ...content, ambiguousMatch: patients.length > 1 });
      await repo.insertInbound(trx, { id, organization_id: org, patient_id: patientId, prospect_id: null, provider, kind: inboundKind(m), content: sealed, received_at: receivedAt, media_state });
      return;
    }
    const phoneToken = token ?? blindToken(key, { kind: 'phone', value: `unparsable:${m.from}` });
    let prospect = await repo.findProspect(trx, phoneToken);
    if (!prospect) {
      prospect = { id: randomUUID() };
      const data = await sealJson(this.services.keys, trx, prospectKey(org, prospect.id), 'prospect', { phone: digits ? `+${digits}` : String(m.from), name: profileName ?? null });
      await repo.insertProspect(trx, { id: prospect.id, organization_id: org, phone_token: phoneToken, data });
    } else await repo.touchProspect(trx, prospect.id);
    const sealed = await sealJson(this.services.keys, trx, prospectKey(org, prospect.id), `inbound:${id}`, content);
    await repo.insertInbound(trx, { id, organization_id: org, patient_id: null, prospect_id: prospect.id, provider, kind: inboundKind(m), content: sealed, received_at: receivedAt, media_state });
  }
}
