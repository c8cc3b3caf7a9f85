// Key hierarchy: practice passphrase --Argon2id--> key-encryption key (KEK) --wraps--> master key
// --wraps--> per-record data keys --encrypt--> fields and blobs. AES-256-GCM everywhere, with the
// organization and record bound as associated data so a ciphertext cannot be moved to another row.
import { argon2, createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';

export interface KdfParams {
  algorithm: 'argon2id';
  memoryKiB: number;
  passes: number;
  parallelism: number;
}

/** Unseal parameters: ~64 MiB, 3 passes; stored with the wrapped key so they can be raised later. */
export const PASSPHRASE_KDF: KdfParams = { algorithm: 'argon2id', memoryKiB: 65536, passes: 3, parallelism: 4 };

/** Bounds for parameters read back from the database (OWASP minimum; maxima against memory/CPU exhaustion). */
export interface KdfBounds {
  min: Omit<KdfParams, 'algorithm'>;
  max: Omit<KdfParams, 'algorithm'>;
}

export const KDF_BOUNDS: KdfBounds = {
  min: { memoryKiB: 19456, passes: 2, parallelism: 1 },
  max: { memoryKiB: 2 * 1024 * 1024, passes: 16, parallelism: 16 },
};

/** The bounds a process built with `kdf` accepts: never below what it would write itself. */
export function boundsFor(kdf: KdfParams, base: KdfBounds = KDF_BOUNDS): KdfBounds {
  return {
    min: {
      memoryKiB: Math.min(base.min.memoryKiB, kdf.memoryKiB),
      passes: Math.min(base.min.passes, kdf.passes),
      parallelism: Math.min(base.min.parallelism, kdf.parallelism),
    },
    max: base.max,
  };
}

/** Why stored parameters are unacceptable, or undefined when they are within bounds. */
export function kdfProblem(p: unknown, bounds: KdfBounds): string | undefined {
  const k = p as Partial<KdfParams> | null;
  if (!k || typeof k !== 'object' || k.algorithm !== 'argon2id') return 'the algorithm is not argon2id';
  for (const field of ['memoryKiB', 'passes', 'parallelism'] as const) {
    const v = k[field];
    if (typeof v !== 'number' || !Number.isInteger(v)) return `${field} is not a whole number`;
    if (v < bounds.min[field]) return `${field} ${v} is below the minimum ${bounds.min[field]}`;
    if (v > bounds.max[field]) return `${field} ${v} is above the maximum ${bounds.max[field]}`;
  }
  return undefined;
}

const VERSION = 1;

export class DecryptionError extends Error {}

export function argon2id(secret: string | Buffer, salt: Buffer, p: KdfParams, length = 32): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2(
      'argon2id',
      { message: secret, nonce: salt, parallelism: p.parallelism, tagLength: length, memory: p.memoryKiB, passes: p.passes },
      (err, key) => (err ? reject(err) : resolve(Buffer.from(key))),
    );
  });
}

export function deriveKek(passphrase: string, salt: Buffer, params: KdfParams): Promise<Buffer> {
  return argon2id(passphrase.normalize('NFC'), salt, params);
}

/** Encrypts with AES-256-GCM: version(1) | iv(12) | tag(16) | ciphertext. */
export function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), ct]);
}

export function open(key: Buffer, box: Buffer, aad: string): Buffer {
  if (box.length < 29 || box[0] !== VERSION) throw new DecryptionError('ciphertext has an unknown format');
  const decipher = createDecipheriv('aes-256-gcm', key, box.subarray(1, 13));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(box.subarray(13, 29));
  try {
    return Buffer.concat([decipher.update(box.subarray(29)), decipher.final()]);
  } catch {
    throw new DecryptionError('ciphertext failed authentication (wrong key or moved to another record)');
  }
}

export function newKey(): Buffer {
  return randomBytes(32);
}

export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export const MASTER_AAD = 'praxiskern:master-key:v1';
export const dataKeyAad = (organizationId: string, scope: string, scopeId: string) => `praxiskern:data-key:v1:${organizationId}:${scope}:${scopeId}`;
export const fieldAad = (organizationId: string, scope: string, scopeId: string, field: string) =>
  `praxiskern:field:v1:${organizationId}:${scope}:${scopeId}:${field}`;
