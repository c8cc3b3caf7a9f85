// AI preparation of patient files and triage of inbound messages with Anthropic Claude
// (issue 13, docs/ai.md). Order of every request: the organization switch, the patient's
// restriction (Art. 18) and objection (Art. 21), the consent purpose ai_preparation, the key file,
// the daily token budget; then the whitelisted fields are collected, pseudonymised and cut to size;
// the final leak check refuses to send when a known identifier is still present; then one call
// through the gateway (bulkhead, breaker, SDK retries). Each request is written to ai_requests and
// the audit log (task, categories, SHA-256 of the exact bytes sent, model, tokens, outcome). The
// answer is checked with zod, de-tokenised here, and stored as a draft encrypted with the patient's
// key. Only items a doctor accepts become record entries (kind note, marked AI-assisted).
import { randomUUID } from 'node:crypto';
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { withScope, type Tx } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import { practiceToday, type Actor } from '../../core/context.ts';
import { AppError, notFound, validation } from '../../core/errors.ts';
import type { Services } from '../../http/services.ts';
import { audit, auditRead, auditStandalone } from '../audit/audit.service.ts';
import { syncOrganizationRegister } from '../services-register/register.service.ts';
import { hasConsent } from '../consent/consent.service.ts';
import { openJson, patientKey, sealJson } from '../patients/patient.crypto.ts';
import { requirePatient } from '../patients/patient.guard.ts';
import { readScope, scope } from '../patients/patient.service.ts';
import { deleteDueDrafts } from './draft-purge.ts';
import { endRequestTransaction } from '../../db/request-transaction.ts';
import { ageOn, type MasterData } from '../patients/patient.schema.ts';
import { entryField, loadEntries } from '../records/record.service.ts';
import * as records from '../records/record.repository.ts';
import type { NOTE_CATEGORIES } from '../records/record.schema.ts';
import { AiUnavailableError, gatewayFor, type MessageParams } from './anthropic.client.ts';
import { PREPARATION_TOOL, preparationOutput, TRIAGE_TOOL, triageOutput, type SettingsInput } from './ai.schema.ts';
import { settingsRow, type SettingsRow } from './ai.repository.ts';
import { organizationTimeZone } from '../appointments/appointment.repository.ts';
import { Pseudonymiser, type IdentifierCategory, type KnownIdentifiers } from './pseudonymise.ts';

type Category = (typeof NOTE_CATEGORIES)[number];
export type Task = 'prepare' | 'triage';

/** Tokens used since midnight in the organization's zone (the budget is per practice day, not per UTC day). */
async function tokensUsedToday(trx: Tx, organizationId: string): Promise<number> {
  const zone = await organizationTimeZone(trx, organizationId);
  const [r] = await trx('ai_requests').where({ organization_id: organizationId })
    .andWhere('created_at', '>=', trx.raw("date_trunc('day', now() at time zone ?) at time zone ?", [zone, zone]))
    .select(trx.raw('coalesce(sum(tokens_in + tokens_out), 0)::int as used'));
  return Number((r as { used: number }).used);
}

/** The key file must lie inside the AI secrets directory (an admin cannot point at other files of the server). */
function keyPath(services: Services, file: string): string {
  const dir = services.config.ai.secretsDir;
  const p = path.resolve(dir, file);
  if (p !== dir && p.startsWith(dir + path.sep)) return p;
  throw validation('body.apiKeyFile', `must be a file inside the AI secrets directory (${dir})`, 'invalid_path');
}

async function readKey(services: Services, file: string | null, field: string): Promise<string> {
  if (!file) throw new AppError(field.startsWith('body.') ? 400 : 409, field.startsWith('body.') ? 'validation_failed' : 'ai_not_configured', `${field}: no API key file is set`, [{ field, message: 'no API key file is set', code: 'required' }]);
  const p = keyPath(services, file);
  const dir = await realpath(services.config.ai.secretsDir).catch(() => services.config.ai.secretsDir);
  const real = await realpath(p).catch(() => null);
  const key = real && (real.startsWith(dir + path.sep)) ? (await readFile(real, 'utf8').catch(() => '')).trim() : '';
  if (!key) throw new AppError(field.startsWith('body.') ? 400 : 409, field.startsWith('body.') ? 'validation_failed' : 'ai_not_configured', `${field}: the API key file is missing, unreadable or empty`, [{ field, message: 'the API key file is missing, unreadable or empty', code: 'unreadable_file' }]);
  if (/[\s\u0000]/.test(key)) throw new AppError(400, 'validation_failed', `${field}: the API key file must hold one key on one line`, [{ field, message: 'the API key file must hold one key on one line', code: 'invalid_value' }]);
  return key;
}

function settingsOut(services: Services, r: SettingsRow, used: number) {
  return {
    enabled: r.enabled, model: r.model, baseUrl: r.base_url, apiKeyFile: r.api_key_file, apiKeyPresent: false, timeoutMs: r.timeout_ms, maxRetries: r.max_retries,
    dailyTokenBudget: r.daily_token_budget, tokensUsedToday: used, enabledAt: r.enabled_at, updatedAt: r.updated_by ? r.updated_at : null,
    secretsDir: services.config.ai.secretsDir,
  };
}
async function withKeyPresence(services: Services, v: ReturnType<typeof settingsOut>) {
  if (!v.apiKeyFile) return v;
  const present = await readKey(services, v.apiKeyFile, 'apiKeyFile').then(() => true, () => false);
  return { ...v, apiKeyPresent: present };
}

export async function getSettings(services: Services) {
  const actor = authorize('ai.settings');
  const v = await withScope(services.db, readScope(actor), async (trx) => settingsOut(services, await settingsRow(trx, actor.organizationId), await tokensUsedToday(trx, actor.organizationId)));
  return withKeyPresence(services, v);
}

export async function saveSettings(services: Services, input: SettingsInput) {
  const actor = authorize('ai.settings');
  if (input.apiKeyFile) keyPath(services, input.apiKeyFile);
  if (input.enabled) await readKey(services, input.apiKeyFile, 'body.apiKeyFile');
  const v = await withScope(services.db, scope(actor), async (trx) => {
    const before = await settingsRow(trx, actor.organizationId);
    const row = {
      organization_id: actor.organizationId, enabled: input.enabled, model: input.model, base_url: input.baseUrl.replace(/\/+$/, ''), api_key_file: input.apiKeyFile,
      timeout_ms: input.timeoutMs, max_retries: input.maxRetries, daily_token_budget: input.dailyTokenBudget,
      enabled_at: input.enabled ? (before.enabled ? before.enabled_at : new Date()) : null, updated_by: actor.userId, updated_at: new Date(),
    };
    await trx('ai_settings').insert(row).onConflict('organization_id').merge();
    const details = {
      enabled: row.enabled, model: row.model, baseUrl: row.base_url, timeoutMs: row.timeout_ms, maxRetries: row.max_retries, dailyTokenBudget: row.daily_token_budget,
      keyFileSet: Boolean(row.api_key_file),
    };
    await audit(trx, { action: 'ai.settings', objectType: 'organization', objectId: actor.organizationId, details });
    // Switching Anthropic on or off: recorded in the register of external services and audited there
    // once, as anthropic.external_service.enabled / .disabled (the provider reads ai_settings through trx).
    await syncOrganizationRegister(services, trx, actor.organizationId);
    return settingsOut(services, await settingsRow(trx, actor.organizationId), await tokensUsedToday(trx, actor.organizationId));
  });
  return withKeyPresence(services, v);
}

export async function status(services: Services) {
  const actor = authorize('ai.triage');
  return withScope(services.db, readScope(actor), async (trx) => {
    const s = await settingsRow(trx, actor.organizationId);
    const breaker = gatewayFor(services).state(s.base_url);
    const left = Math.max(0, s.daily_token_budget - (await tokensUsedToday(trx, actor.organizationId)));
    return { enabled: s.enabled, available: s.enabled && breaker !== 'open' && left > 0, breaker, budgetLeft: left };
  });
}

// ---------------------------------------------------------------------------------------------
// Gating and identifiers

const gateError = (code: string, message: string, details?: Record<string, unknown>) => new AppError(409, code, message, details);

interface Gate {
  settings: SettingsRow;
  apiKey: string;
  master: MasterData & Record<string, unknown>;
  budgetLeft: number;
}

async function gate(services: Services, trx: Tx, actor: Actor, patientId: string, task: Task): Promise<Gate> {
  const settings = await settingsRow(trx, actor.organizationId);
  const row = await requirePatient(trx, patientId);
  const deny = async (code: string, reason: string, message: string, status = 409) => {
    gatewayFor(services).metrics.requests.inc({ task, outcome: 'blocked_gate' });
    await auditStandalone(services.db, { action: 'ai.request', outcome: 'denied', objectType: 'patient', objectId: patientId, details: { task, reason, sent: false } });
    return new AppError(status, code, message, { reason });
  };
  if (!settings.enabled) throw await deny('ai_disabled', 'disabled', 'The AI preparation is switched off for this organization');
  if (row.restricted_at) throw await deny('ai_blocked', 'restriction', 'Processing of this patient is restricted (Art. 18 DSGVO): nothing is sent to the AI');
  if (row.objected_at) throw await deny('ai_blocked', 'objection', 'The patient objected to automated processing (Art. 21 DSGVO): nothing is sent to the AI');
  if (!(await hasConsent(trx, patientId, 'ai_preparation'))) throw await deny('ai_consent_missing', 'consent', 'The patient has not consented to AI preparation (purpose ai_preparation)');
  let apiKey: string;
  try {
    apiKey = await readKey(services, settings.api_key_file, 'apiKeyFile');
  } catch (err) {
    await deny('ai_not_configured', 'key_file', 'no key');
    throw err;
  }
  const used = await tokensUsedToday(trx, actor.organizationId);
  if (used >= settings.daily_token_budget) {
    throw await deny('ai_budget_exhausted', 'budget', `The daily token budget of this organization (${settings.daily_token_budget}) is used up; it renews at midnight (${await organizationTimeZone(trx, actor.organizationId)})`, 429);
  }
  const master = await openJson<MasterData & Record<string, unknown>>(services.keys, trx, patientKey(actor.organizationId, patientId), 'master', row.data);
  return { settings, apiKey, master, budgetLeft: settings.daily_token_budget - used };
}

async function knownIdentifiers(trx: Tx, m: MasterData & Record<string, unknown>): Promise<KnownIdentifiers> {
  const staff = (await trx('users').select('display_name')) as { display_name: string }[];
  const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v : null);
  const relatives: string[] = [];
  const nameOf = (x: unknown) => (typeof x === 'string' ? x : x && typeof x === 'object' && typeof (x as { name?: unknown }).name === 'string' ? (x as { name: string }).name : null);
  for (const k of ['emergencyContact', 'contactPerson', 'relatives']) {
    for (const x of Array.isArray(m[k]) ? (m[k] as unknown[]) : [m[k]]) {
      const n = nameOf(x);
      if (n) relatives.push(n);
    }
  }
  return {
    patientNames: [m.givenName, m.familyName],
    relativeNames: relatives,
    staffNames: staff.map((u) => u.display_name).filter(Boolean),
    birthDate: m.birthDate,
    phones: [m.phone, m.whatsapp].filter((x): x is string => Boolean(x)),
    emails: m.email ? [m.email] : [],
    address: m.address ? { street: m.address.street, postalCode: m.address.postalCode } : null,
    insuranceNumber: str(m.insuranceNumber),
    patientNumber: str(m.patientNumber),
  };
}

// ---------------------------------------------------------------------------------------------
// Building the payload: whitelisted fields only, free text scrubbed, sizes capped.

interface Source { ref: string; kind: string; label: string; text: string }

class PayloadBuilder {
  readonly sources: Source[] = [];
  readonly lines: string[] = [];
  readonly truncated: string[] = [];
  readonly categories = new Set<string>();
  #chars = 0;
  readonly p: Pseudonymiser;
  readonly maxField: number;
  readonly maxTotal: number;
  constructor(p: Pseudonymiser, maxField: number, maxTotal: number) {
    this.p = p;
    this.maxField = maxField;
    this.maxTotal = maxTotal;
  }
  /** One source; its clear text is kept locally for the review beside the draft, only the scrubbed text goes out. */
  add(kind: string, category: string, label: string, clear: string): void {
    if (!clear.trim()) return;
    let text = clear;
    if (text.length > this.maxField) {
      text = text.slice(0, this.maxField);
      this.truncated.push(`${kind}:${label}`);
    }
    const ref = `S${this.sources.length + 1}`;
    const scrubbed = this.p.scrub(text);
    const line = `[${ref}] ${kind} — ${this.p.scrub(label)}:\n${scrubbed}${text.length < clear.length ? '\n[… gekürzt / truncated]' : ''}`;
    if (this.#chars + line.length > this.maxTotal) {
      this.truncated.push(`${kind}:${label}`);
      return;
    }
    this.#chars += line.length;
    this.lines.push(line);
    this.sources.push({ ref, kind, label, text });
    this.categories.add(category);
  }
}

const daysAgo = (d: Date | string) => Math.max(0, Math.round((Date.now() - new Date(d).getTime()) / 86_400_000));
const when = (d: Date | string) => `vor ${daysAgo(d)} Tagen`;

function answersText(answers: Record<string, unknown>): string {
  return Object.entries(answers).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`).join('\n');
}

const SYSTEM_PREPARE = [
  'Du bereitest eine Patientenakte für die ärztliche Beurteilung in einer deutschen Praxis vor. Du stellst keine Diagnose;',
  'die Entscheidung trifft die Ärztin oder der Arzt. Platzhalter wie [NAME_1] oder [DATE_2] stehen für entfernte Angaben: übernimm sie unverändert, errate sie nicht.',
  'Antworte ausschließlich über das Werkzeug file_preparation, auf Deutsch, knapp. Nenne bei jedem Punkt die Quellen (S1, S2 …).',
  'Kontraindikationen: z. B. Blutverdünner, Rauchen, Allergien, Schwangerschaft, Diabetes. Offene Fragen: was die Praxis den Patienten noch fragen sollte.',
].join(' ');

const SYSTEM_TRIAGE = [
  'You triage one inbound message a patient sent to a German medical practice. Placeholders such as [NAME_1] stand for removed details: keep them unchanged.',
  'Answer only through the tool message_triage. urgency emergency means: advise calling 112 now. The suggested reply is in the language of the message,',
  'short and friendly, gives no diagnosis, and is reviewed by staff before anything is sent.',
].join(' ');

async function recordRequest(trx: Tx, actor: Actor, r: {
  patientId: string; task: Task; categories: string[]; sha: string | null; bytes: number | null; model: string; tokensIn: number; tokensOut: number;
  outcome: 'success' | 'failure' | 'malformed' | 'blocked_leak'; reason: string | null;
}): Promise<string> {
  const id = randomUUID();
  await trx('ai_requests').insert({
    id, organization_id: actor.organizationId, patient_id: r.patientId, task: r.task, categories: r.categories, payload_sha256: r.sha, payload_bytes: r.bytes,
    model: r.model, tokens_in: r.tokensIn, tokens_out: r.tokensOut, outcome: r.outcome, failure_reason: r.reason, created_by: actor.userId,
  });
  await audit(trx, {
    action: r.outcome === 'blocked_leak' ? 'ai.request.blocked' : 'ai.disclosure',
    outcome: r.outcome === 'success' ? 'success' : r.outcome === 'blocked_leak' ? 'denied' : 'failure',
    objectType: 'patient', objectId: r.patientId,
    details: {
      requestId: id, task: r.task, recipient: 'Anthropic', sent: r.outcome !== 'blocked_leak', categories: r.categories, payloadSha256: r.sha, payloadBytes: r.bytes,
      model: r.model, tokensIn: r.tokensIn, tokensOut: r.tokensOut, result: r.outcome, ...(r.reason ? { reason: r.reason } : {}),
    },
  });
  return id;
}

interface Prepared {
  params: MessageParams;
  builder: PayloadBuilder;
  gate: Gate;
}

/** Leak check; on a finding the refusal is recorded (committed) and a 422 names the categories. */
async function checkOrRefuse(services: Services, actor: Actor, patientId: string, task: Task, prepared: Prepared): Promise<void> {
  const leaks = prepared.builder.p.leakCheck({ system: prepared.params.system, messages: prepared.params.messages });
  if (!leaks.length) return;
  const m = gatewayFor(services).metrics;
  for (const c of leaks) m.leakBlocked.inc({ category: c });
  m.requests.inc({ task, outcome: 'blocked_leak' });
  await withScope(services.db, scope(actor), (trx) => recordRequest(trx, actor, {
    patientId, task, categories: [...prepared.builder.categories], sha: null, bytes: null, model: prepared.gate.settings.model, tokensIn: 0, tokensOut: 0, outcome: 'blocked_leak', reason: leaks.join(','),
  }));
  throw new AppError(422, 'ai_leak_blocked', `Not sent: the final check still found ${leaks.join(', ')} in the text for the AI`, { categories: leaks });
}

async function callAndRecord<T>(services: Services, actor: Actor, patientId: string, task: Task, prepared: Prepared, parse: (input: unknown) => T):
  Promise<{ requestId: string; output: T; tokensIn: number; tokensOut: number; trx?: never }> {
  const gw = gatewayFor(services);
  const s = prepared.gate.settings;
  const categories = [...prepared.builder.categories];
  // The call may take up to timeout × retries: the request's read transaction ends before it.
  await endRequestTransaction();
  try {
    const res = await gw.create({ baseUrl: s.base_url, apiKey: prepared.gate.apiKey, model: s.model, timeoutMs: s.timeout_ms, maxRetries: s.max_retries }, prepared.params);
    const tokensIn = res.message.usage?.input_tokens ?? 0;
    const tokensOut = res.message.usage?.output_tokens ?? 0;
    gw.metrics.tokens.inc({ direction: 'input' }, tokensIn);
    gw.metrics.tokens.inc({ direction: 'output' }, tokensOut);
    const tool = res.message.content.find((c) => c.type === 'tool_use');
    const parsed = tool ? (() => { try { return { ok: true as const, value: parse(tool.input) }; } catch { return { ok: false as const }; } })() : { ok: false as const };
    if (!parsed.ok) {
      gw.metrics.failures.inc({ reason: 'malformed' });
      gw.metrics.requests.inc({ task, outcome: 'malformed' });
      await withScope(services.db, scope(actor), (trx) => recordRequest(trx, actor, {
        patientId, task, categories, sha: res.payloadSha256, bytes: res.payloadBytes, model: s.model, tokensIn, tokensOut, outcome: 'malformed', reason: tool ? 'schema' : 'no_tool_use',
      }));
      throw new AppError(502, 'ai_malformed_output', 'The AI answered in a form that does not match the expected structure; nothing was written. Try again.');
    }
    gw.metrics.requests.inc({ task, outcome: 'success' });
    const requestId = await withScope(services.db, scope(actor), (trx) => recordRequest(trx, actor, {
      patientId, task, categories, sha: res.payloadSha256, bytes: res.payloadBytes, model: s.model, tokensIn, tokensOut, outcome: 'success', reason: null,
    }));
    return { requestId, output: parsed.value, tokensIn, tokensOut };
  } catch (err) {
    if (!(err instanceof AiUnavailableError)) throw err;
    gw.metrics.requests.inc({ task, outcome: 'failure' });
    const e = err as AiUnavailableError & { payloadSha256?: string; payloadBytes?: number };
    await withScope(services.db, scope(actor), (trx) => recordRequest(trx, actor, {
      patientId, task, categories, sha: e.payloadSha256 ?? null, bytes: e.payloadBytes ?? null, model: s.model, tokensIn: 0, tokensOut: 0, outcome: 'failure', reason: e.reason,
    }));
    if (e.reason === 'auth' || e.reason === 'bad_request') throw new AppError(502, 'ai_refused', `${e.message}: check the AI settings (key file, model)`, { reason: e.reason });
    throw new AppError(503, 'ai_unavailable', `${e.message}; everything else keeps working`, { reason: e.reason });
  }
}

// ---------------------------------------------------------------------------------------------
// Task (a): prepare a patient file

export async function prepare(services: Services, patientId: string) {
  const actor = authorize('ai.prepare');
  const cfg = services.config.ai;
  const prepared = await withScope(services.db, readScope(actor), async (trx): Promise<Prepared> => {
    const g = await gate(services, trx, actor, patientId, 'prepare');
    const p = new Pseudonymiser(await knownIdentifiers(trx, g.master));
    const b = new PayloadBuilder(p, cfg.maxFieldChars, cfg.maxInputChars);
    const entries = (await loadEntries(services, trx, actor.organizationId, patientId)).filter((e) => !e.supersededById);
    const inbound = await trx('inbound_messages').where({ patient_id: patientId }).orderBy('received_at', 'desc').limit(20);
    if (!entries.length && !inbound.length) throw new AppError(422, 'ai_empty_record', 'The record has no anamnesis, diagnoses, treatments, plans or messages to prepare');
    const age = ageOn(g.master.birthDate, practiceToday());
    const profile = `Alter ${age} Jahre; Geschlecht ${g.master.sex}${g.master.language ? `; Sprache ${g.master.language}` : ''}`;
    for (const e of entries) {
      const d = e.data as Record<string, unknown>;
      if (e.kind === 'anamnesis') {
        const pq = d.prequalification as { status: string; reasons: { de: string }[] } | undefined;
        b.add('Anamnese', 'anamnesis', `Fragebogen ${(d.questionnaire as { key: string }).key}, ${when(e.createdAt)}`, answersText((d.answers ?? {}) as Record<string, unknown>));
        if (pq) b.add('Vorqualifizierung', 'prequalification', pq.status, pq.reasons.map((r) => r.de).join('\n') || pq.status);
      } else if (e.kind === 'diagnosis') {
        b.add('Diagnose', 'diagnoses', `${d.code} (${d.certainty}${d.side ? `, ${d.side}` : ''})${d.diagnosedOn ? `, ${when(String(d.diagnosedOn))}` : ''}`, String(d.text));
      } else if (e.kind === 'treatment') {
        // performedBy (a staff name) is not on the whitelist
        b.add('Behandlung', 'treatment_history', `${d.type}, ${when(String(d.performedOn))}`, String(d.description));
      } else if (e.kind === 'plan') {
        const steps = (d.steps as { description: string }[] | undefined)?.map((s) => `- ${s.description}`).join('\n') ?? '';
        b.add('Behandlungsplan', 'treatment_history', `${d.title} (${d.status})`, [d.notes ?? '', steps].filter(Boolean).join('\n') || String(d.title));
      } else if (e.kind === 'note') {
        b.add('Notiz', 'notes', `${d.category}, ${when(e.createdAt)}`, String(d.text));
      }
    }
    for (const m of inbound.reverse()) {
      const c = await openJson<{ text: string | null; media: { caption: string | null } | null }>(services.keys, trx, patientKey(actor.organizationId, patientId), `inbound:${m.id}`, m.content);
      // Photos and documents are never sent; a caption is text and goes like a message.
      const text = c.text ?? c.media?.caption ?? '';
      b.add('Nachricht des Patienten', 'messages', when(m.received_at), text);
    }
    if (!b.sources.length) throw new AppError(422, 'ai_empty_record', 'The record has no text to prepare');
    const user = [
      `Patient: ${profile}.`,
      b.truncated.length ? `Hinweis: Die Eingabe wurde gekürzt (${b.truncated.length} Abschnitt(e)).` : '',
      'Quellen:', ...b.lines,
    ].filter(Boolean).join('\n\n');
    b.categories.add('age');
    const params: MessageParams = {
      model: g.settings.model, max_tokens: Math.min(cfg.maxOutputTokens, Math.max(256, g.budgetLeft)), system: SYSTEM_PREPARE,
      messages: [{ role: 'user', content: user }],
      tools: [PREPARATION_TOOL as never], tool_choice: { type: 'tool', name: PREPARATION_TOOL.name },
    };
    return { params, builder: b, gate: g };
  });
  await checkOrRefuse(services, actor, patientId, 'prepare', prepared);
  const p = prepared.builder.p;
  const res = await callAndRecord(services, actor, patientId, 'prepare', prepared, (input) => p.detokeniseDeep(preparationOutput.parse(input)));
  const known = new Set(prepared.builder.sources.map((s) => s.ref));
  const refs = (r: string[]) => r.filter((x) => known.has(x));
  const o = res.output;
  let n = 0;
  const item = (category: Category, text: string, sources: string[], flag: string | null = null) => ({ id: `i${++n}`, category, flag, text, sources: refs(sources), status: 'pending' as const, entryId: null });
  const items = [
    item('summary', o.summary, []),
    ...o.findings.map((f) => item('finding', f.text, f.sources)),
    ...o.contraindications.map((c) => item('contraindication', c.text, c.sources, c.flag)),
    ...o.openQuestions.map((q) => item('question', q.text, q.sources)),
    item('next_step', o.nextStep.text, o.nextStep.sources),
  ];
  return withScope(services.db, scope(actor), async (trx) => {
    await deleteDueDrafts(trx, actor.organizationId);
    const id = randomUUID();
    const content: DraftContent = {
      items, sources: prepared.builder.sources, truncated: prepared.builder.truncated, categoriesSent: [...prepared.builder.categories], tokensIn: res.tokensIn, tokensOut: res.tokensOut,
    };
    await trx('ai_drafts').insert({
      id, organization_id: actor.organizationId, patient_id: patientId, request_id: res.requestId, model: prepared.gate.settings.model,
      data: await sealJson(services.keys, trx, patientKey(actor.organizationId, patientId), draftField(id), content), created_by: actor.userId,
      purge_after: new Date(Date.now() + cfg.draftRetentionDays * 86_400_000),
    });
    await audit(trx, { action: 'ai.draft.create', objectType: 'patient', objectId: patientId, details: { draftId: id, requestId: res.requestId, items: items.length } });
    return { draft: await draftOut(services, trx, (await trx('ai_drafts').where({ id }).first()) as DraftRow) };
  });
}

interface DraftContent {
  items: { id: string; category: Category; flag: string | null; text: string; sources: string[]; status: 'pending' | 'accepted' | 'rejected'; entryId: string | null }[];
  sources: Source[];
  truncated: string[];
  categoriesSent: string[];
  tokensIn: number;
  tokensOut: number;
}
interface DraftRow {
  id: string; organization_id: string; patient_id: string; request_id: string; model: string; status: 'open' | 'reviewed'; data: Buffer;
  created_by: string | null; created_at: Date; reviewed_by: string | null; reviewed_at: Date | null; purge_after: Date;
}
export const draftField = (id: string) => `ai_draft:${id}`;

async function draftOut(services: Services, trx: Tx, r: DraftRow) {
  const c = await openJson<DraftContent>(services.keys, trx, patientKey(r.organization_id, r.patient_id), draftField(r.id), r.data);
  return {
    id: r.id, patientId: r.patient_id, model: r.model, status: r.status, createdAt: r.created_at, createdBy: r.created_by, reviewedAt: r.reviewed_at, reviewedBy: r.reviewed_by,
    purgeAfter: r.purge_after, ...c,
  };
}

export async function listDrafts(services: Services, patientId: string) {
  const actor = authorize('ai.prepare');
  return withScope(services.db, scope(actor), async (trx) => {
    await requirePatient(trx, patientId);
    await deleteDueDrafts(trx, actor.organizationId);
    const rows = (await trx('ai_drafts').where({ patient_id: patientId }).orderBy('created_at', 'desc').limit(20)) as DraftRow[];
    const drafts = [];
    for (const r of rows) drafts.push(await draftOut(services, trx, r));
    await auditRead(trx, 'ai_draft', patientId, { drafts: rows.map((r) => r.id) });
    return { drafts };
  });
}

export async function review(services: Services, draftId: string, input: { decisions: { itemId: string; decision: 'accept' | 'reject'; text?: string }[] }) {
  const actor = authorize('ai.prepare');
  return withScope(services.db, scope(actor), async (trx) => {
    const r = (await trx('ai_drafts').where({ id: draftId }).forUpdate().first()) as DraftRow | undefined;
    if (!r) throw notFound('AI draft');
    const patient = await requirePatient(trx, r.patient_id, true);
    if (patient.restricted_at) throw new AppError(423, 'restricted', 'This patient record is restricted (Art. 18 DSGVO): it is read-only until the restriction is lifted');
    const ref = patientKey(actor.organizationId, r.patient_id);
    const c = await openJson<DraftContent>(services.keys, trx, ref, draftField(r.id), r.data);
    const seen = new Set<string>();
    for (const [i, d] of input.decisions.entries()) {
      const it = c.items.find((x) => x.id === d.itemId);
      if (!it) throw validation(`body.decisions.${i}.itemId`, 'is not an item of this draft', 'invalid_value');
      if (seen.has(d.itemId)) throw validation(`body.decisions.${i}.itemId`, 'is decided twice in this request', 'invalid_value');
      seen.add(d.itemId);
      if (it.status !== 'pending') throw validation(`body.decisions.${i}.itemId`, `was already ${it.status}`, 'already_decided');
      if (d.decision === 'reject' && d.text !== undefined) throw validation(`body.decisions.${i}.text`, 'is only allowed when accepting', 'invalid_value');
    }
    const now = new Date();
    const accepted: string[] = [];
    for (const d of input.decisions) {
      const it = c.items.find((x) => x.id === d.itemId)!;
      if (d.decision === 'reject') {
        it.status = 'rejected';
        continue;
      }
      const entryId = randomUUID();
      const text = d.text ?? it.text;
      const data = { category: it.category, text, aiAssisted: { model: r.model, draftId: r.id, reviewedBy: actor.userId, reviewedAt: now.toISOString(), edited: text !== it.text } };
      await records.insertEntry(trx, {
        id: entryId, organization_id: actor.organizationId, patient_id: r.patient_id, kind: 'note', questionnaire_id: null, supersedes_id: null,
        data: await sealJson(services.keys, trx, ref, entryField({ kind: 'note', id: entryId }), data), created_by: actor.userId,
      });
      await audit(trx, { action: 'health_record.append', objectType: 'patient', objectId: r.patient_id, details: { kind: 'note', entryId, aiAssisted: true, model: r.model, draftId: r.id } });
      it.status = 'accepted';
      it.entryId = entryId;
      accepted.push(d.itemId);
    }
    const done = c.items.every((x) => x.status !== 'pending');
    await trx('ai_drafts').where({ id: r.id }).update({
      data: await sealJson(services.keys, trx, ref, draftField(r.id), c),
      ...(done ? { status: 'reviewed', reviewed_by: actor.userId, reviewed_at: now, purge_after: new Date(now.getTime() + services.config.ai.draftRetentionDays * 86_400_000) } : {}),
    });
    await audit(trx, {
      action: 'ai.draft.review', objectType: 'patient', objectId: r.patient_id,
      details: { draftId: r.id, accepted, rejected: input.decisions.filter((d) => d.decision === 'reject').map((d) => d.itemId), edited: input.decisions.filter((d) => d.text !== undefined).map((d) => d.itemId), complete: done },
    });
    return { draft: await draftOut(services, trx, (await trx('ai_drafts').where({ id: r.id }).first()) as DraftRow) };
  });
}

// ---------------------------------------------------------------------------------------------
// Task (b): triage an inbound message

export async function triage(services: Services, patientId: string, messageId: string) {
  const actor = authorize('ai.triage');
  const cfg = services.config.ai;
  let truncated = false;
  const prepared = await withScope(services.db, readScope(actor), async (trx): Promise<Prepared> => {
    const g = await gate(services, trx, actor, patientId, 'triage');
    const m = await trx('inbound_messages').where({ id: messageId, patient_id: patientId }).first();
    if (!m) throw notFound('Inbound message');
    const c = await openJson<{ text: string | null; media: { caption: string | null } | null }>(services.keys, trx, patientKey(actor.organizationId, patientId), `inbound:${m.id}`, m.content);
    const text = c.text ?? c.media?.caption ?? '';
    if (!text.trim()) throw new AppError(422, 'ai_empty_message', 'The message has no text to triage (photos and documents are never sent)');
    const p = new Pseudonymiser(await knownIdentifiers(trx, g.master));
    const b = new PayloadBuilder(p, Math.min(cfg.maxFieldChars, cfg.maxInputChars), cfg.maxInputChars);
    b.add('Message', 'messages', when(m.received_at), text);
    truncated = b.truncated.length > 0;
    const params: MessageParams = {
      model: g.settings.model, max_tokens: Math.min(cfg.maxOutputTokens, Math.max(256, g.budgetLeft)), system: SYSTEM_TRIAGE,
      messages: [{ role: 'user', content: `${g.master.language ? `Preferred language of the patient: ${g.master.language}.\n\n` : ''}${truncated ? 'Note: the message was truncated.\n\n' : ''}${b.lines.join('\n')}` }],
      tools: [TRIAGE_TOOL as never], tool_choice: { type: 'tool', name: TRIAGE_TOOL.name },
    };
    return { params, builder: b, gate: g };
  });
  await checkOrRefuse(services, actor, patientId, 'triage', prepared);
  const p = prepared.builder.p;
  const res = await callAndRecord(services, actor, patientId, 'triage', prepared, (input) => p.detokeniseDeep(triageOutput.parse(input)));
  return { messageId, model: prepared.gate.settings.model, ...res.output, truncated };
}

/** Disclosures to Anthropic for the patient's export (Art. 15 (1) c: recipients). */
export async function disclosuresOf(trx: Tx, patientId: string) {
  const rows = await trx('ai_requests').where({ patient_id: patientId }).whereNot({ outcome: 'blocked_leak' }).orderBy('created_at');
  return rows.map((r) => ({ recipient: 'Anthropic PBC', at: r.created_at, task: r.task, categories: r.categories, model: r.model, payloadSha256: r.payload_sha256, outcome: r.outcome }));
}

export type { IdentifierCategory };
