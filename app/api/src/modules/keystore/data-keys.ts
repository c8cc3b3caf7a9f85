// Per-record data keys behind a small API that modules use for fields and blobs.
// Destroying a data key (crypto-shredding) makes every field and blob encrypted with it unreadable.
// Unwrapped keys are cached (key-cache.ts), but only ever looked up with the wrapped key the caller
// read in its own transaction: a destroyed key row ends every read at once, in every process.
import type { Tx } from '../../db/connection.ts';
import { notFound } from '../../core/errors.ts';
import type { SealService } from './seal.service.ts';
import { DataKeyCache, DEFAULT_KEY_CACHE, type KeyCacheOptions } from './key-cache.ts';
import { dataKeyAad, fieldAad, newKey, open, seal } from './keystore.crypto.ts';

export interface KeyRef {
  organizationId: string;
  scope: string;
  scopeId: string;
}

/** A data_keys row as read together with the data it protects (null columns: no such key, or destroyed). */
export interface KeyRow {
  key_id: string | null;
  wrapped_key: Buffer | null;
}

export const refId = (ref: KeyRef) => `${ref.organizationId}:${ref.scope}:${ref.scopeId}`;

export class KeyStore {
  readonly #seal: SealService;
  readonly cache: DataKeyCache;

  constructor(sealService: SealService, cacheOptions: KeyCacheOptions = DEFAULT_KEY_CACHE) {
    this.#seal = sealService;
    this.cache = new DataKeyCache(cacheOptions);
    sealService.listeners.add(() => this.cache.clear()); // sealed, or unsealed with a master key: start empty
  }

  /**
   * The data key of a key row the caller read in the same transaction as its data (a join on
   * data_keys): from the cache when this exact wrapped key was unwrapped before.
   */
  unwrap(ref: KeyRef, row: KeyRow): Buffer {
    const master = this.#seal.masterKey();
    if (!row.key_id || !row.wrapped_key) throw notFound('Data key');
    const aad = dataKeyAad(ref.organizationId, ref.scope, ref.scopeId);
    return this.cache.get(row.key_id, aad, row.wrapped_key, () => open(master, row.wrapped_key!, aad));
  }

  async #dataKey(trx: Tx, ref: KeyRef, create: boolean): Promise<Buffer> {
    this.#seal.masterKey();
    const row = await trx('data_keys')
      .where({ organization_id: ref.organizationId, scope: ref.scope, scope_id: ref.scopeId })
      .first('id as key_id', 'wrapped_key', 'destroyed_at');
    if (row?.wrapped_key) return this.unwrap(ref, row);
    if (row?.destroyed_at || !create) throw notFound('Data key');
    const key = newKey();
    await trx('data_keys')
      .insert({ organization_id: ref.organizationId, scope: ref.scope, scope_id: ref.scopeId, wrapped_key: seal(this.#seal.masterKey(), key, dataKeyAad(ref.organizationId, ref.scope, ref.scopeId)) })
      .onConflict(['organization_id', 'scope', 'scope_id'])
      .ignore();
    return this.#dataKey(trx, ref, false);
  }

  async encrypt(trx: Tx, ref: KeyRef, field: string, plaintext: Buffer | string): Promise<Buffer> {
    const key = await this.#dataKey(trx, ref, true);
    return seal(key, Buffer.isBuffer(plaintext) ? plaintext : Buffer.from(plaintext, 'utf8'), fieldAad(ref.organizationId, ref.scope, ref.scopeId, field));
  }

  async decrypt(trx: Tx, ref: KeyRef, field: string, box: Buffer): Promise<Buffer> {
    const key = await this.#dataKey(trx, ref, false);
    return open(key, box, fieldAad(ref.organizationId, ref.scope, ref.scopeId, field));
  }

  /** The raw data key for streaming blob encryption; creates it on first use. */
  async blobKey(trx: Tx, ref: KeyRef): Promise<Buffer> {
    return this.#dataKey(trx, ref, true);
  }

  /** Crypto-shredding: the wrapped key is overwritten; the row stays as proof (ids and time only). */
  async destroy(trx: Tx, ref: KeyRef): Promise<void> {
    const rows: { id: string }[] = await trx('data_keys')
      .where({ organization_id: ref.organizationId, scope: ref.scope, scope_id: ref.scopeId })
      .update({ wrapped_key: null, destroyed_at: trx.fn.now() }, ['id']);
    const forget = () => { for (const r of rows) this.cache.forget(r.id); };
    forget();
    // A read in this process that ran before the commit may have cached the key again: drop it once more.
    trx.executionPromise?.then(forget, () => undefined);
  }
}
