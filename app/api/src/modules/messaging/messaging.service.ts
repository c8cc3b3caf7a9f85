// Messaging for the API: channel settings and templates (admin), sending to a patient and the
// patient's messages (clinical roles), the outbox view (admin, coordinator).
import { existsSync } from 'node:fs';
import { withScope } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import { conflict, validation, validationMany, type FieldIssue } from '../../core/errors.ts';
import type { Services } from '../../http/services.ts';
import { audit } from '../audit/audit.service.ts';
import { requirePatient } from '../patients/patient.guard.ts';
import { readScope, scope } from '../patients/patient.service.ts';
import { defaultTemplate, HEALTH_VARIABLES, isVariable, LANGUAGES, MESSAGE_PURPOSES, usesHealthData, VARIABLES, variablesOf, type Language, type MessageChannel, type MessagePurpose } from './message-templates.ts';
import * as repo from './messaging.repository.ts';
import { enqueueMessage } from './outbox.service.ts';
import { orgSecretFile } from './providers.repository.ts';
import { syncOrganizationRegister } from '../services-register/register.service.ts';

const SENDS = { email: ['first name', 'practice name', 'template text with its variables', 'e-mail address'], whatsapp: ['first name', 'practice name', 'template text or approved template parameters', 'WhatsApp number'] };

export async function getChannels(services: Services) {
  const actor = authorize('messaging.settings');
  return withScope(services.db, readScope(actor), async (trx) => view(services, await repo.channelRow(trx, actor.organizationId)));
}

function view(services: Services, r: repo.ChannelRow) {
  const cfg = services.config.messaging;
  const meta = r.whatsapp_provider === 'meta';
  return {
    email: {
      enabled: r.email_enabled, from: r.email_from, relay: cfg.smtp.host ? `${cfg.smtp.host}:${cfg.smtp.port}` : null,
      starttlsRequired: cfg.smtp.secure || cfg.smtp.requireTls, sends: SENDS.email, recipient: 'patient e-mail address via the SMTP relay',
    },
    whatsapp: {
      enabled: r.whatsapp_enabled, provider: r.whatsapp_provider, phoneNumberId: r.whatsapp_phone_number_id, displayNumber: r.whatsapp_display_number,
      endpoint: meta ? `${cfg.whatsapp.graphUrl}/${cfg.whatsapp.graphVersion}/${r.whatsapp_phone_number_id ?? '{phone-number-id}'}/messages` : `${cfg.whatsapp.d360Url}/messages`,
      credentialPresent: existsSync(orgSecretFile(cfg, r.organization_id, meta ? 'whatsapp-token' : '360dialog-api-key')),
      webhookConfigured: Boolean(cfg.whatsapp.appSecretFile && existsSync(cfg.whatsapp.appSecretFile)),
      sends: SENDS.whatsapp, recipient: meta ? 'Meta Platforms Ireland (WhatsApp Cloud API)' : '360dialog GmbH → Meta (WhatsApp Cloud API)',
    },
    updatedAt: r.updated_by ? r.updated_at : null,
  };
}

export async function saveChannels(services: Services, input: { email: { enabled: boolean; from?: string | null }; whatsapp: { enabled: boolean; provider: 'meta' | '360dialog'; phoneNumberId?: string | null; displayNumber?: string | null } }) {
  const actor = authorize('messaging.settings');
  if (input.email.enabled && !input.email.from) throw validation('body.email.from', 'is required to switch e-mail on', 'required');
  if (input.whatsapp.enabled && !input.whatsapp.phoneNumberId) throw validation('body.whatsapp.phoneNumberId', 'is required to switch WhatsApp on', 'required');
  return withScope(services.db, scope(actor), async (trx) => {
    const before = await repo.channelRow(trx, actor.organizationId);
    const owner = input.whatsapp.phoneNumberId ? await repo.organizationForNumber(trx, input.whatsapp.phoneNumberId) : undefined;
    if (owner && owner !== actor.organizationId) throw conflict('This WhatsApp number is already used by another organization', { field: 'body.whatsapp.phoneNumberId' });
    await repo.saveChannels(trx, {
      organization_id: actor.organizationId, email_enabled: input.email.enabled, email_from: input.email.from ?? null,
      whatsapp_enabled: input.whatsapp.enabled, whatsapp_provider: input.whatsapp.provider, whatsapp_phone_number_id: input.whatsapp.phoneNumberId ?? null,
      whatsapp_display_number: input.whatsapp.displayNumber ?? null, updated_by: actor.userId,
    });
    await audit(trx, {
      action: 'messaging.channels', objectType: 'organization', objectId: actor.organizationId,
      details: { email: input.email.enabled, whatsapp: input.whatsapp.enabled, provider: input.whatsapp.provider, before: { email: before.email_enabled, whatsapp: before.whatsapp_enabled } },
    });
    await syncOrganizationRegister(services, trx, actor.organizationId); // the register of external services
    return view(services, await repo.channelRow(trx, actor.organizationId));
  });
}

function templateView(purpose: MessagePurpose, language: Language, r: repo.TemplateRow | undefined) {
  const d = defaultTemplate(purpose, language);
  const body = r?.body ?? d.body;
  const wa = r?.wa_template_name ? { name: r.wa_template_name, languageCode: r.wa_language_code ?? language, parameters: r.wa_parameters } : null;
  return {
    purpose, language, custom: Boolean(r), subject: r?.subject ?? d.subject, body, whatsappTemplate: wa,
    usesHealthData: usesHealthData([...variablesOf(body), ...(wa?.parameters ?? [])]),
    healthDataEnabledAt: r?.health_data_enabled_at ?? null, healthDataReason: r?.health_data_reason ?? null,
  };
}

export async function listTemplates(services: Services) {
  const actor = authorize('messaging.settings');
  return withScope(services.db, readScope(actor), async (trx) => {
    const rows = await repo.templateRows(trx);
    const templates = [];
    for (const p of MESSAGE_PURPOSES) for (const l of LANGUAGES) templates.push(templateView(p, l, rows.find((r) => r.purpose === p && r.language === l)));
    return { templates, variables: [...VARIABLES], healthVariables: [...HEALTH_VARIABLES] };
  });
}

export async function saveTemplate(services: Services, purpose: MessagePurpose, language: Language, input: { subject?: string; body: string; whatsappTemplate?: { name: string; languageCode: string; parameters: string[] } | null; healthDataReason?: string }) {
  const actor = authorize('messaging.settings');
  const issues: FieldIssue[] = [];
  for (const v of variablesOf(input.body)) if (!isVariable(v)) issues.push({ field: 'body.body', code: 'unknown_variable', message: `uses the unknown variable "${v}"` });
  if (input.subject) for (const v of variablesOf(input.subject)) if (!isVariable(v)) issues.push({ field: 'body.subject', code: 'unknown_variable', message: `uses the unknown variable "${v}"` });
  (input.whatsappTemplate?.parameters ?? []).forEach((v, i) => {
    if (!isVariable(v)) issues.push({ field: `body.whatsappTemplate.parameters.${i}`, code: 'unknown_variable', message: `is the unknown variable "${v}"` });
  });
  if (issues.length) throw validationMany(issues);
  const health = usesHealthData([...variablesOf(input.body), ...variablesOf(input.subject ?? ''), ...(input.whatsappTemplate?.parameters ?? [])]);
  if (health && !input.healthDataReason) throw validation('body.healthDataReason', 'is required: the template uses a health variable (treatment, appointmentType, instructions)', 'required');
  return withScope(services.db, scope(actor), async (trx) => {
    await repo.saveTemplate(trx, {
      organization_id: actor.organizationId, purpose, language, subject: input.subject ?? null, body: input.body,
      wa_template_name: input.whatsappTemplate?.name ?? null, wa_language_code: input.whatsappTemplate?.languageCode ?? null, wa_parameters: input.whatsappTemplate?.parameters ?? [],
      health_data_reason: health ? input.healthDataReason! : null, health_data_enabled_by: health ? actor.userId : null,
      health_data_enabled_at: health ? new Date() : null, updated_by: actor.userId,
    });
    // The reason is the admin's own words about the template (no patient data): kept in the audit entry.
    await audit(trx, { action: health ? 'messaging.template.health_data_enabled' : 'messaging.template', objectType: 'message_template', objectId: `${purpose}:${language}`, details: { purpose, language, ...(health ? { reason: input.healthDataReason } : {}) } });
    return { template: templateView(purpose, language, await repo.templateRow(trx, purpose, language)) };
  });
}

export function outboxView(r: repo.OutboxRow) {
  return {
    id: r.id, patientId: r.patient_id, purpose: r.purpose, channel: r.channel, automated: r.automated, status: r.status,
    blockedReason: r.blocked_reason as never, attempts: r.attempts, lastError: r.last_error, provider: r.provider,
    sendAt: r.send_at, nextAttemptAt: r.next_attempt_at, createdAt: r.created_at, sentAt: r.sent_at, deliveredAt: r.delivered_at, readAt: r.read_at,
  };
}

export async function sendToPatient(services: Services, patientId: string, input: { purpose: MessagePurpose; channel: MessageChannel; sendAt?: string; variables?: Record<string, string> }) {
  const actor = authorize('messaging.send');
  return withScope(services.db, scope(actor), async (trx) => {
    await requirePatient(trx, patientId);
    const row = await enqueueMessage(services, trx, actor.organizationId, actor.userId, {
      patientId, purpose: input.purpose, channel: input.channel, sendAt: input.sendAt ? new Date(input.sendAt) : undefined, variables: input.variables, fieldPrefix: 'body',
    });
    await audit(trx, { action: 'messaging.enqueue', objectType: 'patient', objectId: patientId, details: { messageId: row.id, purpose: row.purpose, channel: row.channel, status: row.status, blockedReason: row.blocked_reason } });
    return { message: outboxView(row) };
  });
}

export async function patientMessages(services: Services, patientId: string) {
  const actor = authorize('messaging.send');
  return withScope(services.db, readScope(actor), async (trx) => {
    await requirePatient(trx, patientId);
    const rows = await repo.outboxOfPatient(trx, patientId);
    await audit(trx, { action: 'messaging.read', objectType: 'patient', objectId: patientId });
    return { items: rows.map(outboxView) };
  });
}

export async function outboxList(services: Services, q: { status?: repo.OutboxStatus; limit: number; offset: number }) {
  const actor = authorize('messaging.outbox');
  return withScope(services.db, readScope(actor), async (trx) => {
    const { rows, total } = await repo.outboxPage(trx, q);
    return { items: rows.map(outboxView), total, limit: q.limit, offset: q.offset, counts: await repo.outboxCounts(trx) };
  });
}
