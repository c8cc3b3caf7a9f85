// Flight-status look-up through an AviationStack-compatible HTTP API (optional, off by default):
//   GET {baseUrl}/flights?access_key=…&flight_iata=LH1234&flight_date=YYYY-MM-DD
// The request carries the flight number, the date and the access key — never anything about the
// patient. A timeout bounds every call, a circuit breaker (cockatiel) stops calling a service that
// keeps failing (it tries again after halfOpenAfterMs), and answers are cached per flight and date
// for cacheTtlMs, so a board full of the same flight costs one call.
import { BrokenCircuitError, circuitBreaker, ConsecutiveBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';

export type FlightStatusErrorCode = 'timeout' | 'unavailable' | 'circuit_open' | 'not_found' | 'rejected' | 'bad_response';

export class FlightStatusError extends Error {
  readonly code: FlightStatusErrorCode;
  /** Counts against the breaker: the service is unavailable (network, timeout, 429, 5xx). */
  readonly retryable: boolean;
  constructor(code: FlightStatusErrorCode, message: string, retryable = false) {
    super(message);
    this.code = code;
    this.retryable = retryable;
  }
}

export interface FlightStatus {
  flightIata: string;
  flightDate: string;
  /** scheduled, active, landed, cancelled, incident, diverted … as the service reports it. */
  status: string | null;
  scheduledArrival: string | null;
  /** The best-known arrival: actual, else estimated, else scheduled (ISO). */
  arrival: string | null;
  /** Best-known arrival minus scheduled arrival, in minutes (null when unknown). */
  delayMinutes: number | null;
}

export interface FlightStatusOptions {
  baseUrl: string;
  accessKey: string;
  timeoutMs?: number;
  cacheTtlMs?: number;
  breakerFailures?: number;
  halfOpenAfterMs?: number;
  now?: () => number;
}

const DEFAULTS = { timeoutMs: 5000, cacheTtlMs: 10 * 60_000, breakerFailures: 3, halfOpenAfterMs: 60_000 };

function isoOrNull(v: unknown): string | null {
  if (typeof v !== 'string' || !v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export class FlightStatusClient {
  readonly options: Required<Omit<FlightStatusOptions, 'now'>> & { now: () => number };
  readonly breaker: CircuitBreakerPolicy;
  readonly #cache = new Map<string, { at: number; value: FlightStatus }>();
  /** Calls that reached the network (the cache and an open breaker make none). */
  calls = 0;

  constructor(options: FlightStatusOptions) {
    this.options = { ...DEFAULTS, now: Date.now, ...options, baseUrl: options.baseUrl.replace(/\/+$/, '') };
    this.breaker = circuitBreaker(handleWhen((e) => e instanceof FlightStatusError && e.retryable), {
      halfOpenAfter: this.options.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(this.options.breakerFailures),
    });
  }

  /** flightIata in the normalized form "LH1234", date YYYY-MM-DD (the flight's departure day). */
  async lookup(flightIata: string, date: string): Promise<FlightStatus> {
    const key = `${flightIata}|${date}`;
    const hit = this.#cache.get(key);
    if (hit && this.options.now() - hit.at < this.options.cacheTtlMs) return hit.value;
    let value: FlightStatus;
    try {
      value = await this.breaker.execute(() => this.#fetch(flightIata, date));
    } catch (err) {
      if (err instanceof BrokenCircuitError) throw new FlightStatusError('circuit_open', 'The flight-status service failed repeatedly; it is not asked again for a while');
      throw err;
    }
    this.#cache.set(key, { at: this.options.now(), value });
    return value;
  }

  async #fetch(flightIata: string, date: string): Promise<FlightStatus> {
    const url = new URL(`${this.options.baseUrl}/flights`);
    url.searchParams.set('access_key', this.options.accessKey);
    url.searchParams.set('flight_iata', flightIata);
    url.searchParams.set('flight_date', date);
    this.calls++;
    let res: Response;
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    const get = () => fetch(url, { headers: { accept: 'application/json' }, signal, redirect: 'error' });
    try {
      // One more try when a kept-alive connection was closed under us (an idempotent GET).
      res = await get().catch((err: Error & { cause?: { code?: string } }) => {
        if (!signal.aborted && ['UND_ERR_SOCKET', 'ECONNRESET'].includes(err.cause?.code ?? '')) return get();
        throw err;
      });
    } catch (err) {
      const e = err as Error;
      if (e.name === 'TimeoutError' || e.name === 'AbortError') throw new FlightStatusError('timeout', `The flight-status service did not answer within ${this.options.timeoutMs} ms`, true);
      throw new FlightStatusError('unavailable', 'The flight-status service cannot be reached', true);
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      throw new FlightStatusError('bad_response', `The flight-status service answered ${res.status} without JSON`, res.status >= 500 || res.status === 429);
    }
    if (res.status === 429 || res.status >= 500) throw new FlightStatusError('unavailable', `The flight-status service answered ${res.status}`, true);
    const b = body as { data?: unknown; error?: { code?: unknown; message?: unknown } };
    if (!res.ok || b.error) {
      // e.g. invalid_access_key, usage_limit_reached, invalid flight_iata (the key is never echoed)
      const code = typeof b.error?.code === 'string' ? b.error.code.replace(/[^a-z0-9_]/gi, '').slice(0, 60) : String(res.status);
      throw new FlightStatusError('rejected', `The flight-status service refused the request (${code})`);
    }
    if (!Array.isArray(b.data)) throw new FlightStatusError('bad_response', 'The flight-status service answered without a data list');
    const flights = b.data as { flight_date?: unknown; flight_status?: unknown; flight?: { iata?: unknown }; arrival?: Record<string, unknown> }[];
    const f = flights.find((x) => (x.flight?.iata === undefined || String(x.flight.iata).toUpperCase() === flightIata) && (x.flight_date === undefined || x.flight_date === date));
    if (!f) throw new FlightStatusError('not_found', `No flight ${flightIata} on ${date} is known to the flight-status service; check the flight number and the date`);
    const scheduled = isoOrNull(f.arrival?.scheduled);
    const arrival = isoOrNull(f.arrival?.actual) ?? isoOrNull(f.arrival?.estimated) ?? scheduled;
    const delayMinutes = scheduled && arrival
      ? Math.round((Date.parse(arrival) - Date.parse(scheduled)) / 60_000)
      : typeof f.arrival?.delay === 'number' ? Math.round(f.arrival.delay) : null;
    return { flightIata, flightDate: date, status: typeof f.flight_status === 'string' ? f.flight_status.slice(0, 40) : null, scheduledArrival: scheduled, arrival, delayMinutes };
  }
}

// One client per organization (breaker and cache shared by its requests); replaced when the
// organization changes the address or the key.
const clients = new Map<string, { signature: string; client: FlightStatusClient }>();
/** Timeout, TTL and breaker of the clients the routes use (tests may shorten them). */
export const flightStatusDefaults: Omit<FlightStatusOptions, 'baseUrl' | 'accessKey'> = {};

export function clientFor(organizationId: string, baseUrl: string, accessKey: string): FlightStatusClient {
  const signature = `${baseUrl}\u0000${accessKey}`;
  const existing = clients.get(organizationId);
  if (existing && existing.signature === signature) return existing.client;
  const client = new FlightStatusClient({ ...flightStatusDefaults, baseUrl, accessKey });
  clients.set(organizationId, { signature, client });
  return client;
}
