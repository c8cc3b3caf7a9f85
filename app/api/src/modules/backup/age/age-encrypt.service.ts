// encryptStream: plaintext in, age v1 file out, in constant memory (one 64 KiB chunk is held back
// because only the end of the input tells whether it is the last chunk).
import { randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { invalidKey } from './age.errors.ts';
import { encodeHeader } from './header.ts';
import { CHUNK_SIZE, ChunkCipher, NONCE_SIZE, payloadKey } from './stream.ts';
import { parseRecipient, wrapFileKey } from './x25519.ts';

/** Everything before the payload chunks: header and payload nonce, plus the chunk cipher. */
export function startEncryption(recipients: string[]): { preamble: Buffer; chunks: ChunkCipher } {
  if (recipients.length === 0) throw invalidKey('at least one recipient is required');
  const parsed = recipients.map(parseRecipient);
  const fileKey = randomBytes(16);
  const nonce = randomBytes(NONCE_SIZE);
  const header = encodeHeader(fileKey, parsed.map((recipient) => wrapFileKey(recipient, fileKey)));
  const chunks = new ChunkCipher(payloadKey(fileKey, nonce));
  fileKey.fill(0);
  return { preamble: Buffer.concat([header, nonce]), chunks };
}

export function encryptStream(recipients: string[]): Transform {
  const { preamble, chunks } = startEncryption(recipients);
  const pending = Buffer.allocUnsafe(CHUNK_SIZE);
  let pendingLength = 0;
  let preambleSent = false;

  // Output is gathered per input buffer, then pushed piece by piece without copying (measured
  // faster than one concatenated buffer: the writer coalesces them with writev).
  const out: Buffer[] = [];
  const seal = (plaintext: Buffer, last: boolean) => out.push(...chunks.seal(plaintext, last));
  const pushOut = (stream: Transform) => {
    for (const piece of out) stream.push(piece);
    out.length = 0;
  };
  const sealPreamble = () => {
    if (!preambleSent) out.push(preamble);
    preambleSent = true;
  };

  function transform(this: Transform, data: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    try {
      sealPreamble();
      let offset = 0;
      while (offset < data.length) {
        if (pendingLength === CHUNK_SIZE) {
          seal(pending, false);
          pendingLength = 0;
        }
        if (pendingLength === 0 && data.length - offset > CHUNK_SIZE) {
          // A whole chunk followed by more input: seal it in place, no copy.
          seal(data.subarray(offset, offset + CHUNK_SIZE), false);
          offset += CHUNK_SIZE;
          continue;
        }
        const copied = data.copy(pending, pendingLength, offset, Math.min(data.length, offset + CHUNK_SIZE - pendingLength));
        pendingLength += copied;
        offset += copied;
      }
      pushOut(this);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  function flush(this: Transform, callback: TransformCallback) {
    try {
      sealPreamble();
      seal(pending.subarray(0, pendingLength), true);
      pushOut(this);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  return new Transform({ transform, flush });
}
