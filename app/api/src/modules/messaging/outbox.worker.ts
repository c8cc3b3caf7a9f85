// The worker side of the outbox: claims due messages per organization, decides again whether each
// may go out, renders it and calls the provider through a rate limit and a circuit breaker per
// provider (cockatiel), then records the answer. Retries are durable (next_attempt_at in the row),
// with exponential backoff and jitter. Delivery is at-least-once (docs/messaging.md, "Delivery
// guarantee"): a crash between the provider's answer and its recording makes the message due
// again after the lease, unless a status webhook carrying its id (biz_opaque_callback_data) came first.
import { BrokenCircuitError, circuitBreaker, ConsecutiveBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import { withScope, type Tx } from '../../db/connection.ts';
import { log } from '../../core/context.ts';
import type { Services } from '../../http/services.ts';
import { SYSTEM_USER_ID } from '../../core/system-jobs.ts';
import { defaultTemplate, languageFor, render, usesHealthData, variablesOf } from './message-templates.ts';
import * as repo from './messaging.repository.ts';
import { messagingMetrics, type MessagingMetrics } from './messaging.metrics.ts';
import { loadPatient, openVariables, recipientOf, sendDecision, type BlockReason } from './outbox.service.ts';
import { NotConfiguredError, ProviderError, sendMail, sendWhatsApp, type WhatsAppPayload } from './providers.repository.ts';

export type ProviderName = 'meta' | '360dialog' | 'smtp';
export const WHATSAPP_WINDOW_MS = 24 * 3600 * 1000;

type Prepared =
  | { kind: 'blocked'; reason: BlockReason }
  | { kind: 'whatsapp'; provider: 'meta' | '360dialog'; phoneNumberId: string; to: string; payload: WhatsAppPayload }
  | { kind: 'email'; from: string; to: string; subject: string; text: string };

/** A token bucket: at most `perSecond` calls per second per provider, bursts up to one second's worth. */
export class RateLimiter {
  #tokens: number;
  #last: number;
  readonly perSecond: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<unknown>;
  constructor(perSecond: number, clock: { now: () => number; sleep: (ms: number) => Promise<unknown> } = { now: Date.now, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) }) {
    this.perSecond = perSecond;
    this.#tokens = perSecond;
    this.#now = clock.now;
    this.#sleep = clock.sleep;
    this.#last = clock.now();
  }
  async take(): Promise<void> {
    for (;;) {
      const now = this.#now();
      this.#tokens = Math.min(this.perSecond, this.#tokens + ((now - this.#last) / 1000) * this.perSecond);
      this.#last = now;
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      await this.#sleep(Math.ceil(((1 - this.#tokens) / this.perSecond) * 1000));
    }
  }
}

/** Exponential backoff with "equal jitter": half the delay fixed, half random, capped. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const d = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(d / 2 + random() * (d / 2));
}

export class OutboxWorker {
  readonly services: Services;
  readonly breakers = new Map<ProviderName, CircuitBreakerPolicy>();
  readonly limiters = new Map<ProviderName, RateLimiter>();
  readonly metrics: MessagingMetrics;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;
  #again = false;

  constructor(services: Services) {
    this.services = services;
    this.metrics = messagingMetrics(services.metrics.registry);
    for (const p of ['meta', '360dialog', 'smtp'] as const) this.metrics.breaker.set({ provider: p }, 0);
  }

  get cfg() {
    return this.services.config.messaging;
  }

  breaker(provider: ProviderName): CircuitBreakerPolicy {
    let b = this.breakers.get(provider);
    if (!b) {
      // Only "the provider is unavailable" counts (network, timeout, 429, 5xx); a refused message does not.
      b = circuitBreaker(handleWhen((e) => e instanceof ProviderError && e.retryable), {
        halfOpenAfter: this.cfg.outbox.breakerHalfOpenSeconds * 1000,
        breaker: new ConsecutiveBreaker(this.cfg.outbox.breakerFailures),
      });
      b.onStateChange((s) => {
        this.metrics.breaker.set({ provider }, s);
        log().warn({ provider, state: s }, 'messaging circuit breaker changed state');
      });
      this.breakers.set(provider, b);
    }
    return b;
  }

  limiter(provider: ProviderName): RateLimiter {
    let l = this.limiters.get(provider);
    if (!l) this.limiters.set(provider, (l = new RateLimiter(this.cfg.outbox.ratePerSecond)));
    return l;
  }

  #busy = false;
  #loop = async () => {
    if (this.#stopped || this.#busy) return;
    this.#busy = true;
    clearTimeout(this.#timer);
    this.#running = this.runOnce().catch((err) => log().error({ err: (err as Error).message }, 'outbox pass failed'));
    await this.#running;
    this.#busy = false;
    if (!this.#stopped) this.#timer = setTimeout(this.#loop, this.#again ? 0 : this.cfg.outbox.pollMs);
  };

  start(): this {
    this.#timer = setTimeout(this.#loop, 0);
    return this;
  }

  /** A message was queued (NOTIFY praxiskern_outbox): look now instead of at the next poll. */
  wake(): void {
    if (!this.#busy && !this.#stopped) {
      clearTimeout(this.#timer);
      this.#timer = setTimeout(this.#loop, 0);
    } else this.#again = true;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** One pass: every organization with due messages, one batch each. Returns the number handled. */
  async runOnce(): Promise<number> {
    this.#again = false;
    if (this.services.seal.isSealed) return 0; // recipients and texts are encrypted: wait for unseal
    let handled = 0;
    for (const org of await repo.dueOrganizations(this.services.db)) {
      const claimed = await withScope(this.services.db, { organizationId: org, userId: SYSTEM_USER_ID }, (trx) => repo.claimDue(trx, this.cfg.outbox.batch, this.cfg.outbox.leaseSeconds));
      if (claimed.length === this.cfg.outbox.batch) this.#again = true;
      await Promise.all(claimed.map((m) => this.deliver(m).catch((err) => log().error({ err: (err as Error).message, outboxId: m.id }, 'delivery failed unexpectedly'))));
      handled += claimed.length;
    }
    return handled;
  }

  async #prepare(trx: Tx, m: repo.OutboxRow): Promise<Prepared> {
    const { row, master } = await loadPatient(this.services, trx, m.patient_id);
    const channels = await repo.channelRow(trx, m.organization_id);
    const reason = await sendDecision(trx, row, master, channels, m.purpose, m.channel, m.automated);
    if (reason) return { kind: 'blocked', reason };
    if (m.purpose === 'reply') {
      // A staff reply from the inbox: free text, only inside the 24 h window (checked again here).
      const last = await repo.lastInboundAt(trx, m.patient_id);
      if (m.channel !== 'whatsapp' || !last || Date.now() - last.getTime() >= WHATSAPP_WINDOW_MS) return { kind: 'blocked', reason: 'window_closed' };
      const { text } = (await openVariables(this.services, trx, m)) as { text?: string };
      return { kind: 'whatsapp', provider: channels.whatsapp_provider, phoneNumberId: channels.whatsapp_phone_number_id!, to: recipientOf(master!, 'whatsapp')!, payload: { type: 'text', text: String(text ?? '') } };
    }
    const purpose = m.purpose;
    const language = languageFor(master!.language);
    const custom = await repo.templateRow(trx, purpose, language);
    const text = custom ?? { ...defaultTemplate(purpose, language), wa_template_name: null, wa_language_code: null, wa_parameters: [], health_data_enabled_at: null };
    if (usesHealthData([...variablesOf(text.body), ...(text.wa_parameters ?? [])]) && !text.health_data_enabled_at) return { kind: 'blocked', reason: 'health_data_not_enabled' };
    const org = await trx('organizations').where({ id: m.organization_id }).first('name');
    const values = { ...(await openVariables(this.services, trx, m)), firstName: master!.givenName, practiceName: org?.name ?? '' };
    const body = render(text.body, values);
    const to = recipientOf(master!, m.channel)!;
    if (m.channel === 'email') return { kind: 'email', from: channels.email_from!, to, subject: render(text.subject ?? '', values), text: body };
    const last = await repo.lastInboundAt(trx, m.patient_id);
    let payload: WhatsAppPayload;
    if (last && Date.now() - last.getTime() < WHATSAPP_WINDOW_MS) payload = { type: 'text', text: body };
    else if (text.wa_template_name) {
      payload = { type: 'template', name: text.wa_template_name, languageCode: text.wa_language_code ?? language, parameters: (text.wa_parameters ?? []).map((n) => values[n as keyof typeof values] ?? '') };
    } else return { kind: 'blocked', reason: 'whatsapp_template_missing' };
    return { kind: 'whatsapp', provider: channels.whatsapp_provider, phoneNumberId: channels.whatsapp_phone_number_id!, to, payload };
  }

  async #record(m: repo.OutboxRow, fn: (trx: Tx) => Promise<unknown>): Promise<void> {
    await withScope(this.services.db, { organizationId: m.organization_id, userId: SYSTEM_USER_ID }, fn);
  }

  async deliver(m: repo.OutboxRow): Promise<void> {
    const scope = { organizationId: m.organization_id, userId: SYSTEM_USER_ID };
    let prepared: Prepared;
    try {
      prepared = await withScope(this.services.db, scope, async (trx) => {
        const p = await this.#prepare(trx, m);
        if (p.kind === 'blocked') {
          await repo.updateOutbox(trx, m.id, { status: 'blocked', blocked_reason: p.reason, finished_at: new Date() }, repo.OPEN_STATUSES);
        }
        return p;
      });
    } catch (err) {
      // Database trouble, the server sealed meanwhile …: the message stays and is tried again later.
      log().warn({ err: (err as Error).message, outboxId: m.id }, 'message could not be prepared');
      await this.#failed(m, m.channel === 'email' ? 'smtp' : 'meta', new NotConfiguredError('could not be prepared (internal error; see the worker log)'));
      return;
    }
    if (prepared.kind === 'blocked') {
      this.metrics.sends.inc({ channel: m.channel, outcome: 'blocked' });
      return;
    }
    const provider: ProviderName = prepared.kind === 'email' ? 'smtp' : prepared.provider;
    let providerId: string;
    try {
      await this.limiter(provider).take();
      providerId = await this.breaker(provider).execute(() =>
        prepared.kind === 'email'
          ? sendMail(this.cfg, { from: prepared.from, to: prepared.to, subject: prepared.subject, text: prepared.text, id: m.id })
          : sendWhatsApp(this.cfg, { provider: prepared.provider, phoneNumberId: prepared.phoneNumberId, organizationId: m.organization_id }, prepared.to, prepared.payload, m.id));
    } catch (err) {
      await this.#failed(m, provider, err as Error);
      return;
    }
    await this.#record(m, (trx) => repo.advanceStatus(trx, { id: m.id }, 'sent', { provider, provider_message_id: providerId, last_error: null }));
    this.metrics.sends.inc({ channel: m.channel, outcome: 'sent' });
  }

  async #failed(m: repo.OutboxRow, provider: ProviderName, err: Error): Promise<void> {
    const o = this.cfg.outbox;
    if (err instanceof BrokenCircuitError) {
      // Not an attempt: the provider is known to be down. Try again when the breaker half-opens.
      this.metrics.sends.inc({ channel: m.channel, outcome: 'breaker_open' });
      await this.#record(m, (trx) => repo.updateOutbox(trx, m.id, { attempts: Math.max(0, m.attempts - 1), next_attempt_at: new Date(Date.now() + o.breakerHalfOpenSeconds * 1000), last_error: `circuit breaker open for ${provider}` }, repo.OPEN_STATUSES));
      return;
    }
    const retryable = err instanceof NotConfiguredError || (err instanceof ProviderError && err.retryable);
    const message = err instanceof ProviderError || err instanceof NotConfiguredError ? err.message : 'unexpected error';
    if (retryable && m.attempts < o.maxAttempts) {
      this.metrics.sends.inc({ channel: m.channel, outcome: 'retry' });
      await this.#record(m, (trx) => repo.updateOutbox(trx, m.id, { next_attempt_at: new Date(Date.now() + backoffMs(m.attempts, o.backoffBaseMs, o.backoffMaxMs)), last_error: message, provider }, repo.OPEN_STATUSES));
    } else {
      this.metrics.sends.inc({ channel: m.channel, outcome: 'failed' });
      await this.#record(m, (trx) => repo.advanceStatus(trx, { id: m.id }, 'failed', { last_error: message, provider }));
    }
  }
}
