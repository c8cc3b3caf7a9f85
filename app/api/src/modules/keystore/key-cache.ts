// Unwrapped data keys kept in memory while the server is unsealed, so a record read does not
// unwrap its key again. The cache is only a map from the *inputs* of an unwrap (key row id, the
// record it is bound to, a hash of the wrapped bytes) to its output: a caller must present the
// wrapped key it just read from data_keys in the same transaction as the data. A key whose row
// was destroyed (erasure, retention), in this process or any other, therefore never matches again:
// the read finds no wrapped key, and the cached copy is unreachable until it is dropped and zeroed.
// Bounded by entries (least recently used goes first) and by age; zeroed on eviction, expiry,
// destruction and seal. Callers get a copy, so zeroing never pulls a key out from under a request.
import { createHash } from 'node:crypto';

export interface KeyCacheOptions {
  /** Most keys held; 0 turns the cache off (every read unwraps). */
  maxEntries: number;
  /** Seconds a key stays after it was last unwrapped; 0 turns the cache off. */
  ttlSeconds: number;
}

export const DEFAULT_KEY_CACHE: KeyCacheOptions = { maxEntries: 10_000, ttlSeconds: 300 };

interface Entry {
  key: Buffer;
  keyId: string;
  expiresAt: number;
}

export interface KeyCacheStats {
  hits: number;
  unwraps: number;
  evictions: number;
}

export class DataKeyCache {
  readonly #entries = new Map<string, Entry>();
  readonly #opts: KeyCacheOptions;
  readonly #now: () => number;
  #sweeper: NodeJS.Timeout | undefined;
  readonly stats: KeyCacheStats = { hits: 0, unwraps: 0, evictions: 0 };

  constructor(opts: KeyCacheOptions = DEFAULT_KEY_CACHE, now: () => number = Date.now) {
    this.#opts = opts;
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  get enabled(): boolean {
    return this.#opts.maxEntries > 0 && this.#opts.ttlSeconds > 0;
  }

  /** The cache slot of one unwrap: the key row, the AAD it is bound to and its wrapped bytes. */
  static slot(keyId: string, aad: string, wrapped: Buffer): string {
    return `${keyId}:${createHash('sha256').update(aad).update('\0').update(wrapped).digest('base64')}`;
  }

  /** A copy of the cached key, or the result of unwrap() (stored, then copied). */
  get(keyId: string, aad: string, wrapped: Buffer, unwrap: () => Buffer): Buffer {
    const slot = DataKeyCache.slot(keyId, aad, wrapped);
    const hit = this.#entries.get(slot);
    if (hit && hit.expiresAt > this.#now()) {
      this.stats.hits++;
      this.#entries.delete(slot); // re-insert: Map order is the LRU order
      this.#entries.set(slot, hit);
      return Buffer.from(hit.key);
    }
    if (hit) this.#drop(slot, hit);
    this.stats.unwraps++;
    const key = unwrap(); // a fresh buffer nobody else holds: the cache keeps it, the caller gets a copy
    if (!this.enabled) return key;
    this.#entries.set(slot, { key, keyId, expiresAt: this.#now() + this.#opts.ttlSeconds * 1000 });
    while (this.#entries.size > this.#opts.maxEntries) {
      const [oldest, entry] = this.#entries.entries().next().value!;
      this.#drop(oldest, entry);
    }
    this.#startSweeper();
    return Buffer.from(key);
  }

  /** Whether any unwrapped copy of this key row is held. */
  holds(keyId: string): boolean {
    for (const e of this.#entries.values()) if (e.keyId === keyId) return true;
    return false;
  }

  /** Drops (and zeroes) every cached copy of one key row: the key was destroyed. */
  forget(keyId: string): void {
    for (const [slot, e] of this.#entries) if (e.keyId === keyId) this.#drop(slot, e);
  }

  /** Drops and zeroes everything (seal, shutdown). */
  clear(): void {
    for (const [slot, e] of this.#entries) this.#drop(slot, e);
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  /** Drops expired keys; runs on a timer so an idle server does not keep old keys in memory. */
  sweep(): void {
    const now = this.#now();
    for (const [slot, e] of this.#entries) if (e.expiresAt <= now) this.#drop(slot, e);
  }

  #drop(slot: string, e: Entry): void {
    e.key.fill(0);
    this.#entries.delete(slot);
    this.stats.evictions++;
  }

  #startSweeper(): void {
    if (this.#sweeper) return;
    this.#sweeper = setInterval(() => this.sweep(), Math.min(60, this.#opts.ttlSeconds) * 1000);
    this.#sweeper.unref();
  }
}
