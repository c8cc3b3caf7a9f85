// ChaCha20-Poly1305 (RFC 8439) through Node's native OpenSSL binding, 16-byte tags appended.
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto';

export const TAG_SIZE = 16;

/** HKDF-SHA-256 → 32-byte ChaCha20-Poly1305 key (as a KeyObject: much cheaper per cipher than a Buffer). */
export function deriveKey(ikm: Uint8Array, salt: Uint8Array, info: string): KeyObject {
  return createSecretKey(Buffer.from(hkdfSync('sha256', ikm, salt, info, 32)));
}

/** Encrypts `plaintext`; returns [ciphertext, tag] so callers can write both without a copy. */
export function seal(key: KeyObject, nonce: Uint8Array, plaintext: Uint8Array): [Buffer, Buffer] {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_SIZE });
  const ciphertext = cipher.update(plaintext);
  cipher.final();
  return [ciphertext, cipher.getAuthTag()];
}

/** Decrypts `sealed` (ciphertext || tag); undefined when it does not authenticate. */
export function open(key: KeyObject, nonce: Uint8Array, sealed: Uint8Array): Buffer | undefined {
  if (sealed.length < TAG_SIZE) return undefined;
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_SIZE });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
  const plaintext = decipher.update(sealed.subarray(0, sealed.length - TAG_SIZE));
  try {
    decipher.final();
  } catch {
    return undefined;
  }
  return plaintext;
}
