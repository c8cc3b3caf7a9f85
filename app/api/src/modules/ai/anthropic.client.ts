// The one way out to Anthropic: the official SDK (@anthropic-ai/sdk) with the organization's base
// URL, key, timeout and retries (the SDK backs off exponentially and honours retry-after /
// retry-after-ms on 429/529/5xx), inside a concurrency limit (cockatiel bulkhead) and a circuit
// breaker per endpoint (cockatiel, as messaging does). The exact bytes sent are captured through the
// SDK's fetch hook so the audit can record their SHA-256.
import { createHash } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { BrokenCircuitError, BulkheadRejectedError, bulkhead, circuitBreaker, ConsecutiveBreaker, handleWhen, type BulkheadPolicy, type CircuitBreakerPolicy } from 'cockatiel';
import { log } from '../../core/context.ts';
import type { Services } from '../../http/services.ts';
import { aiMetrics, type AiMetrics } from './ai.metrics.ts';

export type FailureReason = 'timeout' | 'rate_limited' | 'overloaded' | 'server_error' | 'connection' | 'breaker_open' | 'busy' | 'auth' | 'bad_request';

/** Anthropic could not be used; `transient` ones count towards the breaker. */
export class AiUnavailableError extends Error {
  readonly reason: FailureReason;
  readonly transient: boolean;
  constructor(reason: FailureReason, transient: boolean, message: string) {
    super(message);
    this.reason = reason;
    this.transient = transient;
  }
}

export interface CallSettings {
  baseUrl: string;
  apiKey: string;
  model: string;
  timeoutMs: number;
  maxRetries: number;
}

export interface CallResult {
  message: Anthropic.Message;
  payloadSha256: string;
  payloadBytes: number;
}

export type MessageParams = Anthropic.MessageCreateParamsNonStreaming;

function classify(err: unknown): AiUnavailableError {
  if (err instanceof AiUnavailableError) return err;
  if (err instanceof Anthropic.APIConnectionTimeoutError) return new AiUnavailableError('timeout', true, 'Anthropic did not answer in time');
  if (err instanceof Anthropic.APIConnectionError) return new AiUnavailableError('connection', true, 'Anthropic could not be reached');
  if (err instanceof Anthropic.APIError) {
    const s = err.status ?? 0;
    if (s === 429) return new AiUnavailableError('rate_limited', true, 'Anthropic rate limit reached');
    if (s === 529) return new AiUnavailableError('overloaded', true, 'Anthropic is overloaded');
    if (s >= 500) return new AiUnavailableError('server_error', true, `Anthropic answered ${s}`);
    if (s === 401 || s === 403) return new AiUnavailableError('auth', false, 'Anthropic refused the API key');
    return new AiUnavailableError('bad_request', false, `Anthropic refused the request (${s})`);
  }
  return new AiUnavailableError('connection', true, 'Anthropic could not be reached');
}

export class AnthropicGateway {
  readonly metrics: AiMetrics;
  readonly #services: Services;
  readonly #breakers = new Map<string, CircuitBreakerPolicy>();
  readonly #bulkhead: BulkheadPolicy;

  constructor(services: Services) {
    this.#services = services;
    this.metrics = aiMetrics(services.metrics.registry);
    this.#bulkhead = bulkhead(services.config.ai.maxConcurrency, services.config.ai.maxQueue);
  }

  breaker(baseUrl: string): CircuitBreakerPolicy {
    let b = this.#breakers.get(baseUrl);
    if (!b) {
      b = circuitBreaker(handleWhen((e) => e instanceof AiUnavailableError && e.transient), {
        halfOpenAfter: this.#services.config.ai.breakerHalfOpenSeconds * 1000,
        breaker: new ConsecutiveBreaker(this.#services.config.ai.breakerFailures),
      });
      b.onStateChange((s) => {
        this.metrics.breaker.set(s === 3 ? 1 : s);
        log().warn({ state: s }, 'AI circuit breaker changed state');
      });
      this.#breakers.set(baseUrl, b);
    }
    return b;
  }

  /** 'closed' | 'open' | 'half_open' for the UI's "Anthropic is unavailable" notice. */
  state(baseUrl: string): 'closed' | 'open' | 'half_open' {
    const s = this.#breakers.get(baseUrl)?.state ?? 0;
    return s === 1 || s === 3 ? 'open' : s === 2 ? 'half_open' : 'closed';
  }

  async create(settings: CallSettings, params: MessageParams): Promise<CallResult> {
    let sent: { sha: string; bytes: number } | undefined;
    const capture: typeof fetch = async (input, init) => {
      const body = typeof init?.body === 'string' ? init.body : '';
      sent = { sha: createHash('sha256').update(body, 'utf8').digest('hex'), bytes: Buffer.byteLength(body) };
      return fetch(input, init);
    };
    const client = new Anthropic({
      apiKey: settings.apiKey, baseURL: settings.baseUrl, timeout: settings.timeoutMs, maxRetries: settings.maxRetries, fetch: capture,
    });
    try {
      const message = await this.#bulkhead.execute(() =>
        this.breaker(settings.baseUrl).execute(async () => {
          try {
            return await client.messages.create(params);
          } catch (err) {
            throw classify(err);
          }
        }),
      );
      return { message, payloadSha256: sent!.sha, payloadBytes: sent!.bytes };
    } catch (err) {
      const e = err instanceof BrokenCircuitError ? new AiUnavailableError('breaker_open', false, 'Anthropic is unavailable (circuit breaker open)')
        : err instanceof BulkheadRejectedError ? new AiUnavailableError('busy', false, 'Too many AI requests at once')
        : classify(err);
      this.metrics.failures.inc({ reason: e.reason });
      throw Object.assign(e, { payloadSha256: sent?.sha, payloadBytes: sent?.bytes });
    }
  }
}

const gateways = new WeakMap<Services, AnthropicGateway>();
export function gatewayFor(services: Services): AnthropicGateway {
  let g = gateways.get(services);
  if (!g) gateways.set(services, (g = new AnthropicGateway(services)));
  return g;
}
