// The durable outbox. enqueueMessage() is the one way any module sends a patient message: it
// writes the message in the caller's transaction (so it exists exactly when the change that
// causes it commits), encrypted with the patient's data key. Whether a message may go out is
// decided by sendDecision() — at enqueue and again right before the provider call — and a
// blocked message stays visible with its reason. The worker delivers (outbox.worker.ts).
import { randomUUID } from 'node:crypto';
import type { Tx } from '../../db/connection.ts';
import { validation, validationMany, type FieldIssue } from '../../core/errors.ts';
import type { Services } from '../../http/services.ts';
import { hasConsent } from '../consent/consent.service.ts';
import { openJson, patientKey, rememberKey, sealJson } from '../patients/patient.crypto.ts';
import { findPatient, type PatientRow } from '../patients/patient.repository.ts';
import type { MasterData } from '../patients/patient.schema.ts';
import { AUTOMATED_PURPOSES, isVariable, SERVER_VARIABLES, type MessageChannel, type MessagePurpose } from './message-templates.ts';
import * as repo from './messaging.repository.ts';

export interface EnqueueInput {
  patientId: string;
  purpose: MessagePurpose;
  channel: MessageChannel;
  /** When the message is due (default now). A reminder is due relative to its appointment. */
  sendAt?: Date;
  /**
   * Makes enqueueing idempotent per organization: a second call with the same key updates the
   * queued message (new sendAt and variables: a reminder follows its moved appointment) instead of
   * adding one. Ids only (e.g. "appointment:<id>:reminder:24h"), never names.
   */
  dedupKey?: string;
  /** Template variables (message-templates.ts VARIABLES); unknown names are a 400 naming them. */
  variables?: Record<string, string>;
  /** Defaults to the purpose's nature: reminders and aftercare steps are automated. */
  automated?: boolean;
  /** Field path prefix for validation errors (a route passes 'body'). */
  fieldPrefix?: string;
}

export const BLOCK_REASONS = [
  'channel_disabled', 'no_consent', 'objection', 'restriction', 'anonymized', 'no_recipient',
  'whatsapp_template_missing', 'health_data_not_enabled', 'not_configured',
] as const;
export type BlockReason = (typeof BLOCK_REASONS)[number];

export const CONSENT_PURPOSE = { whatsapp: 'whatsapp_contact', email: 'email_contact' } as const;

export function checkVariables(variables: Record<string, string>, prefix: string): void {
  const issues: FieldIssue[] = [];
  for (const [name, value] of Object.entries(variables)) {
    const field = `${prefix}variables.${name}`;
    if (!isVariable(name)) issues.push({ field, code: 'unknown_variable', message: `is not a template variable (unknown variable "${name}")` });
    else if (SERVER_VARIABLES.includes(name)) issues.push({ field, code: 'server_variable', message: `is filled in by the server` });
    else if (typeof value !== 'string' || value.length > 500) issues.push({ field, code: 'too_long', message: 'must be text of at most 500 characters', limit: 500 } as FieldIssue);
  }
  if (issues.length) throw validationMany(issues);
}

/** Why a message may not go out now, or undefined when it may. */
export async function sendDecision(trx: Tx, row: PatientRow | undefined, master: MasterData | undefined, channels: repo.ChannelRow, purpose: MessagePurpose, channel: MessageChannel, automated: boolean): Promise<BlockReason | undefined> {
  if (!row || row.anonymized_at || !master) return 'anonymized';
  if (channel === 'whatsapp' ? !channels.whatsapp_enabled || !channels.whatsapp_phone_number_id : !channels.email_enabled || !channels.email_from) return 'channel_disabled';
  if (automated && row.objected_at) return 'objection';
  if (automated && row.restricted_at) return 'restriction';
  if (!(await hasConsent(trx, row.id, CONSENT_PURPOSE[channel]))) return 'no_consent';
  if (!recipientOf(master, channel)) return 'no_recipient';
  void purpose;
  return undefined;
}

export function recipientOf(m: MasterData, channel: MessageChannel): string | undefined {
  return channel === 'whatsapp' ? (m.whatsapp ?? m.phone) : m.email;
}

export async function loadPatient(services: Services, trx: Tx, patientId: string): Promise<{ row: PatientRow | undefined; master: MasterData | undefined }> {
  const row = await findPatient(trx, patientId);
  if (!row || !row.data) return { row, master: undefined };
  const ref = patientKey(row.organization_id, row.id);
  rememberKey(services.keys, trx, ref, row);
  return { row, master: await openJson<MasterData>(services.keys, trx, ref, 'master', row.data) };
}

const variablesField = (id: string) => `outbox_variables:${id}`;

export async function openVariables(services: Services, trx: Tx, r: repo.OutboxRow): Promise<Record<string, string>> {
  return openJson(services.keys, trx, patientKey(r.organization_id, r.patient_id), variablesField(r.id), r.variables);
}

/**
 * Writes a message into the outbox in the caller's transaction (scope: the patient's organization).
 * Returns the row: status 'queued', or 'blocked' with the reason when it may not go out now.
 */
export async function enqueueMessage(services: Services, trx: Tx, organizationId: string, actorUserId: string | null, input: EnqueueInput): Promise<repo.OutboxRow> {
  const prefix = input.fieldPrefix ? `${input.fieldPrefix}.` : '';
  const variables = input.variables ?? {};
  checkVariables(variables, prefix);
  if (input.sendAt && Number.isNaN(input.sendAt.getTime())) throw validation(`${prefix}sendAt`, 'is not a point in time');
  const automated = input.automated ?? AUTOMATED_PURPOSES.includes(input.purpose);
  const { row, master } = await loadPatient(services, trx, input.patientId);
  if (!row) throw validation(`${prefix}patientId`, 'is not a patient of this organization', 'not_found');
  const reason = await sendDecision(trx, row, master, await repo.channelRow(trx, organizationId), input.purpose, input.channel, automated);
  const existing = input.dedupKey ? await repo.outboxByDedupKey(trx, input.dedupKey) : undefined;
  const id = existing?.id ?? randomUUID();
  const sealed = await sealJson(services.keys, trx, patientKey(organizationId, input.patientId), variablesField(id), variables);
  const sendAt = input.sendAt ?? new Date();
  if (existing) {
    if (existing.patient_id !== input.patientId) throw validation(`${prefix}dedupKey`, 'is already used for another patient', 'conflict');
    if (existing.status !== 'queued') return existing; // sending or done: a repeated enqueue changes nothing
    const patch: Partial<repo.OutboxRow> = reason
      ? { status: 'blocked', blocked_reason: reason, finished_at: new Date() }
      : { variables: sealed, send_at: sendAt, next_attempt_at: sendAt, purpose: input.purpose, channel: input.channel };
    return (await repo.updateOutbox(trx, id, patch, ['queued'])) ?? existing;
  }
  return repo.insertOutbox(trx, {
    id, organization_id: organizationId, patient_id: input.patientId, purpose: input.purpose, channel: input.channel, automated,
    status: reason ? 'blocked' : 'queued', blocked_reason: reason ?? null, dedup_key: input.dedupKey ?? null, variables: sealed,
    send_at: sendAt, next_attempt_at: sendAt, created_by: actorUserId, finished_at: reason ? new Date() : null,
  });
}

/** Cancels what has not gone out yet (a cancelled appointment sends no reminder). Returns how many. */
export async function cancelQueued(trx: Tx, dedupKeys: string[]): Promise<number> {
  if (!dedupKeys.length) return 0;
  const rows = await trx('outbox_messages').whereIn('dedup_key', dedupKeys).whereIn('status', ['queued']).update({ status: 'cancelled', finished_at: trx.fn.now(), updated_at: trx.fn.now() }, ['id']);
  return rows.length;
}
