// decryptStream: age v1 file in, plaintext out, in constant memory. A chunk's plaintext is released
// only after it authenticated, and a chunk is treated as the last one only when the input ends.
import { Transform, type TransformCallback } from 'node:stream';
import { headerMacMismatch, invalidHeader, invalidKey, noMatch, payloadCorrupt } from './age.errors.ts';
import { findHeaderEnd, MAX_HEADER_BYTES, parseHeader, verifyMac, VERSION_LINE } from './header.ts';
import { ChunkCipher, NONCE_SIZE, payloadKey, SEALED_CHUNK_SIZE } from './stream.ts';
import { parseIdentity, unwrapFileKey, type X25519Identity } from './x25519.ts';

const MAGIC = Buffer.from(`${VERSION_LINE}\n`, 'latin1');

/** Unwraps the file key from a complete header and checks the header MAC. */
function openHeader(identities: X25519Identity[], headerBytes: Buffer): Buffer {
  const header = parseHeader(headerBytes);
  const types = header.stanzas.map((s) => s.type);
  if (types.includes('scrypt') && types.length > 1) throw invalidHeader('an scrypt stanza must be the only stanza');
  const fileKey = unwrapFileKey(identities, header.stanzas);
  if (!fileKey) {
    throw types.includes('scrypt') ? noMatch('file is passphrase-encrypted (scrypt), which is not supported') : noMatch();
  }
  if (!verifyMac(fileKey, header)) throw headerMacMismatch();
  return fileKey;
}

/**
 * The input ended with a chunk that is not a valid last chunk. If it is a valid inner chunk, the
 * file was cut at a chunk boundary: its plaintext is authentic and released, and the next is missing.
 */
function finalChunkFailed(stream: Transform, chunks: ChunkCipher, sealed: Buffer) {
  const chunk = chunks.count + 1;
  const inner = sealed.length === SEALED_CHUNK_SIZE ? chunks.open(sealed, false) : undefined;
  if (!inner) return payloadCorrupt(chunk);
  stream.push(inner);
  return payloadCorrupt(chunk + 1, 'is missing');
}

export function decryptStream(identities: string[]): Transform {
  if (identities.length === 0) throw invalidKey('at least one identity is required');
  const parsed = identities.map(parseIdentity);
  let preamble = Buffer.alloc(0); // header + nonce bytes until both are complete
  let headerLength = -1;
  let fileKey: Buffer | undefined;
  let chunks: ChunkCipher | undefined;
  const staged = Buffer.allocUnsafe(SEALED_CHUNK_SIZE);
  let stagedLength = 0;

  /** Consumes header and nonce; returns the payload bytes of `data` once the payload key is known. */
  function readPreamble(data: Buffer): Buffer | undefined {
    const scanFrom = preamble.length;
    preamble = Buffer.concat([preamble, data]);
    if (headerLength < 0) {
      const prefix = Math.min(preamble.length, MAGIC.length);
      if (!preamble.subarray(0, prefix).equals(MAGIC.subarray(0, prefix))) throw invalidHeader('not an age v1 file');
      const end = findHeaderEnd(preamble, scanFrom);
      if (end < 0 && preamble.length > MAX_HEADER_BYTES) throw invalidHeader('header is larger than 1 MiB');
      if (end < 0) return undefined;
      fileKey = openHeader(parsed, preamble.subarray(0, end));
      headerLength = end;
    }
    if (preamble.length < headerLength + NONCE_SIZE) return undefined;
    chunks = new ChunkCipher(payloadKey(fileKey!, preamble.subarray(headerLength, headerLength + NONCE_SIZE)));
    fileKey!.fill(0);
    const payload = preamble.subarray(headerLength + NONCE_SIZE);
    preamble = Buffer.alloc(0);
    return payload;
  }

  /** A full chunk with more input after it: not the last one — unless it is, followed by garbage. */
  function openInner(stream: Transform, sealed: Buffer) {
    const plaintext = chunks!.open(sealed, false);
    if (plaintext) return void stream.push(plaintext);
    const final = chunks!.open(sealed, true);
    if (!final) throw payloadCorrupt(chunks!.count + 1);
    stream.push(final);
    throw payloadCorrupt(chunks!.count, 'is the last one but data follows it');
  }

  function feed(stream: Transform, data: Buffer) {
    let offset = 0;
    while (offset < data.length) {
      if (stagedLength === SEALED_CHUNK_SIZE) {
        openInner(stream, staged);
        stagedLength = 0;
      }
      if (stagedLength === 0 && data.length - offset > SEALED_CHUNK_SIZE) {
        openInner(stream, data.subarray(offset, offset + SEALED_CHUNK_SIZE));
        offset += SEALED_CHUNK_SIZE;
        continue;
      }
      const copied = data.copy(staged, stagedLength, offset, Math.min(data.length, offset + SEALED_CHUNK_SIZE - stagedLength));
      stagedLength += copied;
      offset += copied;
    }
  }

  function transform(this: Transform, data: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    try {
      const payload = chunks ? data : readPreamble(data);
      if (payload) feed(this, payload);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  function flush(this: Transform, callback: TransformCallback) {
    try {
      if (headerLength < 0) throw invalidHeader('file ends inside the header (truncated?)');
      if (!chunks) throw invalidHeader('file ends before the payload nonce (truncated?)');
      const chunk = chunks.count + 1;
      if (stagedLength === 0) throw payloadCorrupt(chunk, 'is missing');
      const plaintext = chunks.open(staged.subarray(0, stagedLength), true);
      if (!plaintext) throw finalChunkFailed(this, chunks, staged.subarray(0, stagedLength));
      if (plaintext.length === 0 && chunk > 1) throw payloadCorrupt(chunk, 'is an empty final chunk');
      this.push(plaintext);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  return new Transform({ transform, flush });
}
