// The only files of the messaging module that touch knex: channels, templates, the outbox,
// inbound messages, prospects and raw webhook events.
import type { Db, Tx } from '../../db/connection.ts';
import type { Language, MessageChannel, MessagePurpose } from './message-templates.ts';

export interface ChannelRow {
  organization_id: string;
  email_enabled: boolean;
  email_from: string | null;
  whatsapp_enabled: boolean;
  whatsapp_provider: 'meta' | '360dialog';
  whatsapp_phone_number_id: string | null;
  whatsapp_display_number: string | null;
  updated_by: string | null;
  updated_at: Date;
}

export async function channelRow(trx: Tx, organizationId: string): Promise<ChannelRow> {
  const row = await trx('messaging_channels').where({ organization_id: organizationId }).first();
  return row ?? {
    organization_id: organizationId, email_enabled: false, email_from: null, whatsapp_enabled: false, whatsapp_provider: 'meta',
    whatsapp_phone_number_id: null, whatsapp_display_number: null, updated_by: null, updated_at: new Date(0),
  };
}

export async function saveChannels(trx: Tx, row: Omit<ChannelRow, 'updated_at'>): Promise<void> {
  await trx('messaging_channels').insert({ ...row, updated_at: trx.fn.now() }).onConflict('organization_id').merge();
}

export interface TemplateRow {
  id: string;
  organization_id: string;
  purpose: MessagePurpose;
  language: Language;
  subject: string | null;
  body: string;
  wa_template_name: string | null;
  wa_language_code: string | null;
  wa_parameters: string[];
  health_data_reason: string | null;
  health_data_enabled_by: string | null;
  health_data_enabled_at: Date | null;
  updated_by: string | null;
  updated_at: Date;
}

export async function templateRows(trx: Tx): Promise<TemplateRow[]> {
  return trx('message_templates').select('*');
}

export async function templateRow(trx: Tx, purpose: MessagePurpose, language: Language): Promise<TemplateRow | undefined> {
  return trx('message_templates').where({ purpose, language }).first();
}

export async function saveTemplate(trx: Tx, row: Omit<TemplateRow, 'id' | 'updated_at'>): Promise<void> {
  await trx('message_templates').insert({ ...row, updated_at: trx.fn.now() }).onConflict(['organization_id', 'purpose', 'language']).merge();
}

export const OPEN_STATUSES = ['queued', 'sending'] as const;
export type OutboxStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'read' | 'failed' | 'blocked' | 'cancelled';

export interface OutboxRow {
  id: string;
  organization_id: string;
  patient_id: string;
  purpose: MessagePurpose;
  channel: MessageChannel;
  automated: boolean;
  status: OutboxStatus;
  blocked_reason: string | null;
  dedup_key: string | null;
  variables: Buffer;
  send_at: Date;
  next_attempt_at: Date;
  attempts: number;
  provider: string | null;
  provider_message_id: string | null;
  last_error: string | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
  sent_at: Date | null;
  delivered_at: Date | null;
  read_at: Date | null;
  finished_at: Date | null;
}

export async function insertOutbox(trx: Tx, row: Partial<OutboxRow>): Promise<OutboxRow> {
  const [r] = await trx('outbox_messages').insert(row).returning('*');
  return r;
}

export async function outboxByDedupKey(trx: Tx, dedupKey: string): Promise<OutboxRow | undefined> {
  return trx('outbox_messages').where({ dedup_key: dedupKey }).forUpdate().first();
}

export async function updateOutbox(trx: Tx, id: string, patch: Partial<OutboxRow>, onlyStatuses?: readonly OutboxStatus[]): Promise<OutboxRow | undefined> {
  const q = trx('outbox_messages').where({ id });
  if (onlyStatuses) q.whereIn('status', onlyStatuses as OutboxStatus[]);
  const [r] = await q.update({ ...patch, updated_at: trx.fn.now() }).returning('*');
  return r;
}

export async function outboxOfPatient(trx: Tx, patientId: string, limit = 200): Promise<OutboxRow[]> {
  return trx('outbox_messages').where({ patient_id: patientId }).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(limit);
}

export async function outboxPage(trx: Tx, q: { status?: OutboxStatus; limit: number; offset: number }): Promise<{ rows: OutboxRow[]; total: number }> {
  const base = () => (q.status ? trx('outbox_messages').where({ status: q.status }) : trx('outbox_messages'));
  const [{ n }] = await base().count({ n: '*' });
  const rows = await base().orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(q.limit).offset(q.offset);
  return { rows, total: Number(n) };
}

export async function outboxCounts(trx: Tx): Promise<Record<string, number>> {
  const rows: { status: string; n: string }[] = await trx('outbox_messages').groupBy('status').select('status', trx.raw('count(*) as n'));
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/**
 * Claims due messages of the scope's organization for one delivery attempt: the lease
 * (next_attempt_at = now + lease) makes a message that a crashed worker held due again later.
 */
export async function claimDue(trx: Tx, limit: number, leaseSeconds: number): Promise<OutboxRow[]> {
  const { rows } = await trx.raw(
    `update outbox_messages o set status = 'sending', attempts = o.attempts + 1, next_attempt_at = now() + make_interval(secs => ?), updated_at = now()
      where o.id in (select id from outbox_messages where status in ('queued','sending') and next_attempt_at <= now() and send_at <= now()
                      order by next_attempt_at, id limit ? for update skip locked)
      returning o.*`, [leaseSeconds, limit]);
  return rows;
}

export async function dueOrganizations(db: Db): Promise<string[]> {
  const { rows } = await db.raw('select outbox_due_organizations() as id');
  return rows.map((r: { id: string }) => r.id);
}

export async function outboxStats(db: Db): Promise<{ status: string; messages: number; oldest: number }[]> {
  const { rows } = await db.raw('select * from outbox_stats()');
  return rows.map((r: { status: string; messages: string; oldest_due_seconds: number }) => ({ status: r.status, messages: Number(r.messages), oldest: Number(r.oldest_due_seconds) }));
}

/** Applies a provider status to a message: only forwards (a late "delivered" after "read" changes nothing). */
export async function advanceStatus(trx: Tx, where: { id?: string; provider?: string; providerMessageId?: string }, status: 'sent' | 'delivered' | 'read' | 'failed', extra: Partial<OutboxRow> = {}): Promise<OutboxRow | undefined> {
  const stamp = status === 'sent' ? { sent_at: trx.raw('coalesce(sent_at, now())') } : status === 'delivered' ? { delivered_at: trx.raw('now()') }
    : status === 'read' ? { read_at: trx.raw('now()'), finished_at: trx.raw('now()') } : { finished_at: trx.raw('now()') };
  const q = trx('outbox_messages');
  if (where.id) q.where({ id: where.id });
  else q.where({ provider: where.provider, provider_message_id: where.providerMessageId });
  if (status === 'failed') q.whereIn('status', ['queued', 'sending', 'sent']);
  else q.whereRaw('outbox_status_rank(status) < outbox_status_rank(?) and status in (?,?,?,?)', [status, 'queued', 'sending', 'sent', 'delivered']);
  const [r] = await q.update({ status, ...stamp, ...extra, updated_at: trx.fn.now() }).returning('*');
  return r;
}

export async function lastInboundAt(trx: Tx, patientId: string): Promise<Date | undefined> {
  const r = await trx('inbound_messages').where({ patient_id: patientId }).max({ at: 'received_at' }).first();
  return r?.at ?? undefined;
}

export async function insertInbound(trx: Tx, row: { id: string; organization_id: string; patient_id: string | null; prospect_id: string | null; provider: string; kind: string; content: Buffer; received_at: Date }): Promise<void> {
  await trx('inbound_messages').insert(row);
}

export async function findProspect(trx: Tx, phoneToken: Buffer): Promise<{ id: string } | undefined> {
  return trx('prospects').where({ phone_token: phoneToken }).first('id');
}

export async function insertProspect(trx: Tx, row: { id: string; organization_id: string; phone_token: Buffer; data: Buffer }): Promise<void> {
  await trx('prospects').insert(row);
}

export async function touchProspect(trx: Tx, id: string): Promise<void> {
  await trx('prospects').where({ id }).update({ last_message_at: trx.fn.now() });
}

export async function patientsByPhoneToken(trx: Tx, token: Buffer): Promise<string[]> {
  return (await trx('patient_search').where({ kind: 'phone', token }).select('patient_id')).map((r: { patient_id: string }) => r.patient_id);
}

// ---- webhook events (installation-wide; no organization until processed) ----

export async function insertWebhookEvent(db: Db, body: Buffer): Promise<void> {
  await db('webhook_events').insert({ provider: 'whatsapp', body });
}

export interface WebhookEventRow { id: string; body: Buffer; attempts: number }

export async function claimWebhookEvents(trx: Tx, limit: number): Promise<WebhookEventRow[]> {
  return trx('webhook_events').whereNull('processed_at').orderBy('id').limit(limit).forUpdate().skipLocked().select('id', 'body', 'attempts');
}

/** Processed: the raw body (personal data) is overwritten; the row stays as a receipt. */
export async function finishWebhookEvent(trx: Tx, id: string, error?: string): Promise<void> {
  await trx('webhook_events').where({ id }).update({ processed_at: trx.fn.now(), body: Buffer.alloc(0), error: error?.slice(0, 1000) ?? null, attempts: trx.raw('attempts + 1') });
}

export async function retryWebhookEvent(trx: Tx, id: string, error: string): Promise<void> {
  await trx('webhook_events').where({ id }).update({ attempts: trx.raw('attempts + 1'), error: error.slice(0, 1000) });
}

/** True the first time a key is seen. */
export async function markSeen(trx: Tx, key: Buffer): Promise<boolean> {
  const rows = await trx('webhook_seen').insert({ key }).onConflict('key').ignore().returning('key');
  return rows.length > 0;
}

export async function organizationForNumber(trx: Tx | Db, phoneNumberId: string): Promise<string | undefined> {
  const { rows } = await trx.raw('select messaging_organization_for_number(?) as id', [phoneNumberId]);
  return rows[0]?.id ?? undefined;
}

/** Receipts of processed events after 7 days, seen ids after 30 (Meta redelivers for up to 7 days). */
export async function pruneWebhookTables(db: Db): Promise<{ events: number; seen: number }> {
  const events = await db('webhook_events').whereNotNull('processed_at').where('processed_at', '<', db.raw("now() - interval '7 days'")).delete();
  const seen = await db('webhook_seen').where('seen_at', '<', db.raw("now() - interval '30 days'")).delete();
  return { events, seen };
}
