// Inbound WhatsApp media (worker; docs/messaging.md "Media"): for every inbound message whose media
// is pending, GET /{version}/{media-id} (Meta: Bearer token; 360dialog: GET {base}/{media-id} with
// D360-API-KEY) → { url, mime_type, sha256, file_size }, then GET the url with the same credential
// (360dialog: the url's path and query through its base URL), both through the provider's circuit
// breaker. Larger than PRAXISKERN_MEDIA_MAX_BYTES → 'too_large' (nothing stored); a sha256 that does
// not match → 'refused'; unreachable provider → retried durably with backoff (media_next_at), at most
// PRAXISKERN_OUTBOX_MAX_ATTEMPTS times, then 'failed'. Stored bytes are AES-256-GCM ciphertext under
// the patient's data key (prospects: the prospect's key; re-encrypted when it becomes a patient).
import { createHash } from 'node:crypto';
import { BrokenCircuitError, type CircuitBreakerPolicy } from 'cockatiel';
import { withScope, type Tx } from '../../db/connection.ts';
import { log } from '../../core/context.ts';
import type { Services } from '../../http/services.ts';
import type { KeyRef } from '../keystore/data-keys.ts';
import { open, seal } from '../keystore/keystore.crypto.ts';
import { deleteBlob, newBlobId, readBlob, writeBlob } from '../documents/blob.repository.ts';
import { openJson, patientKey } from '../patients/patient.crypto.ts';
import { SYSTEM_USER_ID } from '../../core/system-jobs.ts';
import { backoffMs } from './outbox.worker.ts';
import { orgSecretFile, ProviderError, readSecret, redact } from './providers.repository.ts';
import { prospectKey } from './webhook.processor.ts';

export interface MediaRow { id: string; organization_id: string; patient_id: string | null; prospect_id: string | null; provider: string; content: Buffer; media_state: string | null; media_blob_id: string | null; media_attempts: number }
interface InboundMedia { media: { id: string | null; mimeType: string | null; sha256: string | null; filename: string | null } | null }

export const mediaKeyRef = (r: { organization_id: string; patient_id: string | null; prospect_id: string | null }): KeyRef =>
  r.patient_id ? patientKey(r.organization_id, r.patient_id) : prospectKey(r.organization_id, r.prospect_id!);
export const mediaAad = (r: { organization_id: string; patient_id: string | null; prospect_id: string | null; id: string }, blobId: string) =>
  `praxiskern:inbound-media:v1:${r.organization_id}:${r.patient_id ?? `prospect:${r.prospect_id}`}:${r.id}:${blobId}`;

class TooLarge extends Error {
  readonly size: number | undefined;
  constructor(size: number | undefined) {
    super(`larger than the limit${size === undefined ? '' : ` (${size} bytes)`}`);
    this.size = size;
  }
}
class Refused extends Error {}

/** A digest in the provider's notation (hex or base64) equals the bytes' sha256. */
export function sha256Matches(data: Buffer, expected: string): boolean {
  const d = createHash('sha256').update(data).digest();
  return expected.trim().toLowerCase() === d.toString('hex') || expected.trim() === d.toString('base64');
}

async function providerGet(url: string, headers: Record<string, string>, timeoutMs: number): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (err) {
    throw new ProviderError(`WhatsApp media not reachable: ${(err as Error).name === 'TimeoutError' ? 'timeout' : (err as Error).message}`, true);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new ProviderError(`WhatsApp media ${res.status}`, res.status >= 500 || res.status === 429 || res.status === 408, res.status);
  }
  return res;
}

/** Reads a body up to `max` bytes; more → TooLarge (the rest is not read). */
async function readLimited(res: Response, max: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new TooLarge(declared);
  }
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res.body ?? []) {
    n += (c as Uint8Array).byteLength;
    if (n > max) throw new TooLarge(undefined);
    chunks.push(Buffer.from(c as Uint8Array));
  }
  return Buffer.concat(chunks);
}

export async function downloadMedia(services: Services, org: string, provider: string, mediaId: string): Promise<{ data: Buffer; mimeType: string; sha256: string | null }> {
  const cfg = services.config.messaging;
  const meta = provider !== '360dialog';
  const secret = await readSecret(orgSecretFile(cfg, org, meta ? 'whatsapp-token' : '360dialog-api-key'), meta ? 'WhatsApp access token' : '360dialog API key');
  const headers: Record<string, string> = meta ? { authorization: `Bearer ${secret}` } : { 'D360-API-KEY': secret };
  const id = encodeURIComponent(mediaId);
  const infoUrl = meta ? `${cfg.whatsapp.graphUrl}/${cfg.whatsapp.graphVersion}/${id}` : `${cfg.whatsapp.d360Url}/${id}`;
  const info = await (await providerGet(infoUrl, headers, cfg.outbox.providerTimeoutMs)).json().catch(() => ({})) as { url?: string; mime_type?: string; sha256?: string; file_size?: number | string };
  if (typeof info.url !== 'string' || !/^https?:\/\//.test(info.url)) throw new ProviderError('WhatsApp media answer without a url', true);
  const size = Number(info.file_size);
  if (Number.isFinite(size) && size > cfg.mediaMaxBytes) throw new TooLarge(size);
  // 360dialog proxies Meta's media host: the same path and query through its base URL
  const u = new URL(info.url);
  const dataUrl = meta ? info.url : `${cfg.whatsapp.d360Url}${u.pathname}${u.search}`;
  const data = await readLimited(await providerGet(dataUrl, headers, cfg.outbox.providerTimeoutMs), cfg.mediaMaxBytes);
  const mimeType = typeof info.mime_type === 'string' && /^[\w.+-]+\/[\w.+-]+(;.*)?$/.test(info.mime_type) ? info.mime_type.slice(0, 200) : 'application/octet-stream';
  return { data, mimeType, sha256: typeof info.sha256 === 'string' ? info.sha256 : null };
}

export class MediaFetcher {
  readonly services: Services;
  readonly breaker: (provider: 'meta' | '360dialog') => CircuitBreakerPolicy;
  constructor(services: Services, breaker: (provider: 'meta' | '360dialog') => CircuitBreakerPolicy) {
    this.services = services;
    this.breaker = breaker;
  }

  /** One pass: due media of every organization (10 per organization). Returns how many were handled. */
  async runOnce(limit = 10): Promise<number> {
    if (this.services.seal.isSealed) return 0;
    const { rows } = await this.services.db.raw('select inbound_media_due_organizations() as id');
    let n = 0;
    for (const { id: org } of rows as { id: string }[]) {
      const due = await withScope(this.services.db, { organizationId: org, userId: SYSTEM_USER_ID }, (trx) =>
        trx('inbound_messages').where({ media_state: 'pending' }).where('media_next_at', '<=', trx.fn.now()).orderBy('media_next_at').limit(limit)
          .select('id', 'organization_id', 'patient_id', 'prospect_id', 'provider', 'content', 'media_state', 'media_blob_id', 'media_attempts')) as MediaRow[];
      for (const r of due) {
        await this.#one(r).catch(async (err) => {
          // an unexpected failure (keys, blob store, database): counted as an attempt, so the row is not due again at once
          log().warn({ err: (err as Error).message, inboundMessage: r.id }, 'inbound media pass failed');
          await this.#later(r, redact((err as Error).message).slice(0, 900)).catch(() => undefined);
        });
        n++;
      }
    }
    return n;
  }

  /** Another attempt later (backoff with jitter), or 'failed' when final or out of attempts. */
  async #later(r: MediaRow, message: string, final = false): Promise<void> {
    const attempts = r.media_attempts + 1;
    const cfg = this.services.config.messaging.outbox;
    const patch = final || attempts >= cfg.maxAttempts
      ? { media_state: 'failed', media_attempts: attempts, media_error: message, media_next_at: null }
      : { media_attempts: attempts, media_error: message, media_next_at: new Date(Date.now() + backoffMs(attempts, cfg.backoffBaseMs, cfg.backoffMaxMs)) };
    await withScope(this.services.db, { organizationId: r.organization_id, userId: SYSTEM_USER_ID }, (trx) => trx('inbound_messages').where({ id: r.id, media_state: 'pending' }).update(patch));
  }

  async #one(r: MediaRow): Promise<void> {
    const scope = { organizationId: r.organization_id, userId: SYSTEM_USER_ID };
    const c = await withScope(this.services.db, scope, (trx) => openJson<InboundMedia>(this.services.keys, trx, mediaKeyRef(r), `inbound:${r.id}`, r.content));
    const update = (patch: Record<string, unknown>) => withScope(this.services.db, scope, (trx) => trx('inbound_messages').where({ id: r.id, media_state: 'pending' }).update(patch));
    if (!c.media?.id) return void (await update({ media_state: 'failed', media_error: 'no media id', media_next_at: null }));
    const provider = r.provider === '360dialog' ? '360dialog' : 'meta';
    let got: Awaited<ReturnType<typeof downloadMedia>>;
    try {
      got = await this.breaker(provider).execute(() => downloadMedia(this.services, r.organization_id, provider, c.media!.id!));
      for (const expected of [got.sha256, c.media.sha256]) if (expected && !sha256Matches(got.data, expected)) throw new Refused('sha256 does not match');
    } catch (err) {
      if (err instanceof TooLarge) return void (await update({ media_state: 'too_large', media_size: err.size ?? null, media_error: err.message, media_next_at: null }));
      if (err instanceof Refused) return void (await update({ media_state: 'refused', media_error: err.message, media_next_at: null }));
      const retryable = err instanceof BrokenCircuitError || (err instanceof ProviderError && err.retryable) || !(err instanceof ProviderError);
      const message = redact(err instanceof BrokenCircuitError ? 'circuit breaker open' : (err as Error).message).slice(0, 900);
      return this.#later(r, message, !retryable);
    }
    const blobId = newBlobId();
    let written = false;
    try {
      const stored = await withScope(this.services.db, scope, async (trx) => {
        // the message may have been erased or moved to a patient meanwhile: read it again, locked
        const now = await trx('inbound_messages').where({ id: r.id, media_state: 'pending' }).forUpdate().first('id', 'organization_id', 'patient_id', 'prospect_id');
        if (!now) return false;
        const key = await this.services.keys.blobKey(trx, mediaKeyRef(now));
        await writeBlob(this.services.config.dataDir, blobId, seal(key, got.data, mediaAad(now, blobId)));
        written = true;
        await trx('inbound_messages').where({ id: r.id }).update({
          media_state: 'stored', media_blob_id: blobId, media_content_type: got.mimeType, media_size: got.data.length,
          media_attempts: r.media_attempts + 1, media_error: null, media_next_at: null,
        });
        return true;
      });
      if (!stored && written) await deleteBlob(this.services.config.dataDir, blobId);
    } catch (err) {
      if (written) await deleteBlob(this.services.config.dataDir, blobId);
      throw err;
    }
  }
}

/** Decrypts a stored media item (the caller has checked access). */
export async function readMedia(services: Services, trx: Tx, r: { id: string; organization_id: string; patient_id: string | null; prospect_id: string | null; media_blob_id: string }): Promise<Buffer> {
  const key = await services.keys.blobKey(trx, mediaKeyRef(r));
  return open(key, await readBlob(services.config.dataDir, r.media_blob_id), mediaAad(r, r.media_blob_id));
}

/** Re-encrypts a prospect's media under the new patient's key (conversion); returns the blobs to delete after commit. */
export async function moveMediaToPatient(services: Services, trx: Tx, org: string, prospectId: string, patientId: string): Promise<{ written: string[]; obsolete: string[] }> {
  const rows = await trx('inbound_messages').where({ prospect_id: prospectId }).whereNotNull('media_blob_id').select('id', 'media_blob_id');
  const written: string[] = [];
  const obsolete: string[] = [];
  const toKey = await services.keys.blobKey(trx, patientKey(org, patientId));
  for (const m of rows as { id: string; media_blob_id: string }[]) {
    const from = { id: m.id, organization_id: org, patient_id: null, prospect_id: prospectId };
    const data = await readMedia(services, trx, { ...from, media_blob_id: m.media_blob_id });
    const blobId = newBlobId();
    await writeBlob(services.config.dataDir, blobId, seal(toKey, data, mediaAad({ id: m.id, organization_id: org, patient_id: patientId, prospect_id: null }, blobId)));
    written.push(blobId);
    await trx('inbound_messages').where({ id: m.id }).update({ media_blob_id: blobId });
    obsolete.push(m.media_blob_id);
  }
  return { written, obsolete };
}
