// The seal: after a restart the master key is not in memory and nothing with patient data is
// served until an administrator unseals with the practice passphrase (or auto-unseal is opted in).
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Db, Tx } from '../../db/connection.ts';
import { AppError, sealed as sealedError, validation } from '../../core/errors.ts';
import {
  boundsFor, deriveKek, kdfProblem, MASTER_AAD, newKey, open, PASSPHRASE_KDF, seal, DecryptionError, type KdfBounds, type KdfParams,
} from './keystore.crypto.ts';
import { insertSealConfig, readSealConfig, updateSealConfig } from './seal.repository.ts';

export const MIN_PASSPHRASE_LENGTH = 12;

export function validatePassphrase(passphrase: string, field = 'passphrase'): void {
  if (passphrase.length < MIN_PASSPHRASE_LENGTH) throw validation(field, `must be at least ${MIN_PASSPHRASE_LENGTH} characters`);
  if (passphrase.length > 1024) throw validation(field, 'must be at most 1024 characters');
}

/** The stored Argon2id parameters are outside the bounds: refuse rather than derive weakly. */
export const kdfRejected = (reason: string) =>
  new AppError(409, 'seal_kdf_rejected', `the stored key-derivation parameters are not acceptable (${reason}); the seal configuration may have been tampered with`);

export class SealService {
  #masterKey: Buffer | undefined;
  readonly kdf: KdfParams;
  /**
   * What parameters read back from seal_config must satisfy. The default is the OWASP floor, lowered
   * only for a process that was itself built (in code, not configuration) with lighter parameters: tests.
   */
  readonly kdfBounds: KdfBounds;
  readonly listeners = new Set<(sealed: boolean) => void>();
  /** Called with the passphrase after a successful setup or unseal (the API forwards it to the worker). */
  readonly passphraseListeners = new Set<(passphrase: string) => void>();

  constructor(kdf: KdfParams = PASSPHRASE_KDF, kdfBounds: KdfBounds = boundsFor(kdf)) {
    const own = kdfProblem(kdf, kdfBounds);
    if (own) throw new Error(`the passphrase KDF parameters of this process are out of bounds: ${own}`);
    this.kdf = kdf;
    this.kdfBounds = kdfBounds;
  }

  #checkStored(kdf: unknown): KdfParams {
    const problem = kdfProblem(kdf, this.kdfBounds);
    if (problem) throw kdfRejected(problem);
    return kdf as KdfParams;
  }

  get isSealed(): boolean {
    return this.#masterKey === undefined;
  }

  /** The master key, or a 503 "sealed" error. Only the key store calls this. */
  masterKey(): Buffer {
    if (!this.#masterKey) throw sealedError();
    return this.#masterKey;
  }

  /** First-run: creates the master key, wraps it with the passphrase and leaves the server unsealed. */
  async initialize(trx: Tx, passphrase: string): Promise<void> {
    validatePassphrase(passphrase);
    const master = newKey();
    const salt = randomBytes(16);
    const kek = await deriveKek(passphrase, salt, this.kdf);
    await insertSealConfig(trx, { kdf: this.kdf, salt, wrapped_master_key: seal(kek, master, MASTER_AAD) });
    this.#setKey(master);
    for (const l of this.passphraseListeners) l(passphrase);
  }

  /** Returns true on success; throws 400 for a wrong passphrase. Rate limiting is the caller's. */
  async unseal(db: Db, passphrase: string): Promise<void> {
    const row = await readSealConfig(db);
    if (!row) throw new AppError(409, 'not_initialized', 'Praxiskern is not set up yet');
    const kek = await deriveKek(passphrase, row.salt, this.#checkStored(row.kdf));
    try {
      this.#setKey(open(kek, row.wrapped_master_key, MASTER_AAD));
    } catch (err) {
      if (err instanceof DecryptionError) throw validation('passphrase', 'is wrong');
      throw err;
    }
    for (const l of this.passphraseListeners) l(passphrase);
  }

  /** Re-wraps the master key under a new passphrase; data keys and data stay as they are. */
  async changePassphrase(db: Db, current: string, next: string): Promise<void> {
    validatePassphrase(next, 'newPassphrase');
    await db.transaction(async (trx) => {
      const row = await trx('seal_config').where({ id: 1 }).forUpdate().first('kdf', 'salt', 'wrapped_master_key');
      if (!row) throw new AppError(409, 'not_initialized', 'Praxiskern is not set up yet');
      let master: Buffer;
      try {
        master = open(await deriveKek(current, row.salt, this.#checkStored(row.kdf)), row.wrapped_master_key, MASTER_AAD);
      } catch (err) {
        if (err instanceof DecryptionError) throw validation('currentPassphrase', 'is wrong');
        throw err;
      }
      const salt = randomBytes(16);
      const kek = await deriveKek(next, salt, this.kdf);
      await updateSealConfig(trx, { kdf: this.kdf, salt, wrapped_master_key: seal(kek, master, MASTER_AAD) });
    });
  }

  /** Opt-in auto-unseal: the key file holds the passphrase; it must be mode 0600 or stricter. */
  async autoUnseal(db: Db, keyFile: string): Promise<void> {
    const mode = statSync(keyFile).mode & 0o077;
    if (mode !== 0) throw new Error(`${keyFile} must not be readable by group or others (chmod 600)`);
    await this.unseal(db, readFileSync(keyFile, 'utf8').replace(/\r?\n$/, ''));
  }

  seal(): void {
    this.#masterKey?.fill(0);
    this.#setKey(undefined);
  }

  #setKey(key: Buffer | undefined): void {
    this.#masterKey = key;
    for (const l of this.listeners) l(this.isSealed);
  }
}
