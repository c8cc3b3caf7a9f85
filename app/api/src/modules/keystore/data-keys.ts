// Per-record data keys behind a small API that modules use for fields and blobs.
// Destroying a data key (crypto-shredding) makes every field and blob encrypted with it unreadable.
import type { Tx } from '../../db/connection.ts';
import { notFound } from '../../core/errors.ts';
import type { SealService } from './seal.service.ts';
import { dataKeyAad, fieldAad, newKey, open, seal } from './keystore.crypto.ts';

export interface KeyRef {
  organizationId: string;
  scope: string;
  scopeId: string;
}

export class KeyStore {
  readonly #seal: SealService;
  constructor(sealService: SealService) {
    this.#seal = sealService;
  }

  async #dataKey(trx: Tx, ref: KeyRef, create: boolean): Promise<Buffer> {
    const master = this.#seal.masterKey();
    const aad = dataKeyAad(ref.organizationId, ref.scope, ref.scopeId);
    const row = await trx('data_keys')
      .where({ organization_id: ref.organizationId, scope: ref.scope, scope_id: ref.scopeId })
      .first('wrapped_key', 'destroyed_at');
    if (row?.wrapped_key) return open(master, row.wrapped_key, aad);
    if (row?.destroyed_at || !create) throw notFound('Data key');
    const key = newKey();
    await trx('data_keys')
      .insert({ organization_id: ref.organizationId, scope: ref.scope, scope_id: ref.scopeId, wrapped_key: seal(master, key, aad) })
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
    await trx('data_keys')
      .where({ organization_id: ref.organizationId, scope: ref.scope, scope_id: ref.scopeId })
      .update({ wrapped_key: null, destroyed_at: trx.fn.now() });
  }
}
