// The age payload: 16-byte nonce, HKDF payload key, STREAM of 64 KiB ChaCha20-Poly1305 chunks.
// Nonce per chunk: 11-byte big-endian counter || 1-byte last-chunk flag.
import type { KeyObject } from 'node:crypto';
import { deriveKey, open, seal, TAG_SIZE } from './aead.ts';

export const CHUNK_SIZE = 64 * 1024;
export const SEALED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE;
export const NONCE_SIZE = 16;
/** The counter is written as 6 bytes; 2^48 chunks of 64 KiB is far beyond any backup. */
const MAX_CHUNKS = 2 ** 48;

export const payloadKey = (fileKey: Buffer, nonce: Buffer) => deriveKey(fileKey, nonce, 'payload');

/** Seals or opens successive chunks, keeping the counter. */
export class ChunkCipher {
  readonly #key: KeyObject;
  readonly #nonce = Buffer.alloc(12);
  #counter = 0;

  constructor(key: KeyObject) {
    this.#key = key;
  }

  /** Number of chunks processed so far (the 0-based counter of the next chunk). */
  get count(): number {
    return this.#counter;
  }

  #next(last: boolean): Buffer {
    if (this.#counter >= MAX_CHUNKS) throw new Error('age STREAM counter overflow');
    this.#nonce.writeUIntBE(this.#counter, 5, 6);
    this.#nonce[11] = last ? 1 : 0;
    return this.#nonce;
  }

  seal(plaintext: Uint8Array, last: boolean): [Buffer, Buffer] {
    const sealed = seal(this.#key, this.#next(last), plaintext);
    this.#counter++;
    return sealed;
  }

  /** Opens the next chunk; undefined (counter unchanged) when it does not authenticate as `last`. */
  open(sealed: Uint8Array, last: boolean): Buffer | undefined {
    const plaintext = open(this.#key, this.#next(last), sealed);
    if (plaintext) this.#counter++;
    return plaintext;
  }
}
