// The official age test vectors (C2SP CCTV, npm `cctv-age`), parsed, and a decryption harness
// that reports the outcome in the vectors' own vocabulary.
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { inflateSync } from 'node:zlib';
import * as cctv from 'cctv-age';
import { AgeError, dearmor, decryptStream, encryptStream } from '../../app/api/src/modules/backup/age/index.ts';

export interface Vector {
  name: string;
  expect: string;
  payloadSha256?: string;
  identities: string[];
  passphrases: string[];
  armored: boolean;
  comment?: string;
  file: Buffer;
}

export function loadVectors(): Vector[] {
  return Object.entries(cctv as Record<string, Uint8Array>).map(([name, raw]) => {
    const bytes = Buffer.from(raw);
    const split = bytes.indexOf('\n\n');
    const fields = new Map<string, string[]>();
    for (const line of bytes.subarray(0, split).toString('utf8').split('\n')) {
      const colon = line.indexOf(': ');
      const key = line.slice(0, colon);
      fields.set(key, [...(fields.get(key) ?? []), line.slice(colon + 2)]);
    }
    const body = bytes.subarray(split + 2);
    const one = (key: string) => fields.get(key)?.[0];
    return {
      name,
      expect: one('expect')!,
      payloadSha256: one('payload'),
      identities: fields.get('identity') ?? [],
      passphrases: fields.get('passphrase') ?? [],
      armored: one('armored') === 'yes',
      comment: one('comment'),
      file: one('compressed') === 'zlib' ? inflateSync(body) : body,
    };
  });
}

const OUTCOMES: Record<string, string> = {
  age_invalid_armor: 'armor failure',
  age_invalid_header: 'header failure',
  age_no_match: 'no match',
  age_header_mac: 'HMAC failure',
  age_payload_corrupt: 'payload failure',
};

/** Splits `file` into irregular pieces that straddle header, nonce and chunk boundaries. */
export function fragments(file: Buffer): Buffer[] {
  const sizes = [1, 7, 100, 4096, 65553, 70000, 3];
  const out: Buffer[] = [];
  for (let at = 0, i = 0; at < file.length; at += sizes[i++ % sizes.length]) {
    out.push(file.subarray(at, at + sizes[i % sizes.length]));
  }
  return out;
}

/** Decrypts the way an application would; returns the outcome and the hash of the released plaintext. */
export async function runVector(file: Buffer, armored: boolean, identities: string[], pieces: 'whole' | 'fragmented') {
  const hash = createHash('sha256');
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback();
    },
  });
  let outcome = 'success';
  let message = '';
  try {
    const binary = armored ? dearmor(file) : file;
    const input = Readable.from(pieces === 'whole' ? [binary] : fragments(binary));
    await pipeline(input, decryptStream(identities), sink);
  } catch (err) {
    if (!(err instanceof AgeError)) throw err;
    outcome = OUTCOMES[err.code];
    message = err.message;
  }
  return { outcome, message, payloadSha256: hash.digest('hex') };
}

/** Collects a stream's output, and what it released before an error (`error` then holds the error). */
export async function collect(input: Buffer[], transform: NodeJS.ReadWriteStream) {
  const released: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      released.push(chunk);
      callback();
    },
  });
  let error: unknown;
  try {
    await pipeline(Readable.from(input), transform, sink);
  } catch (err) {
    error = err;
  }
  return { output: Buffer.concat(released), error };
}

export async function encryptBuffer(plaintext: Buffer, recipients: string[], pieces: 'whole' | 'fragmented' = 'whole') {
  const { output, error } = await collect(pieces === 'whole' ? [plaintext] : fragments(plaintext), encryptStream(recipients));
  if (error) throw error;
  return output;
}

/** Length of the header (up to and including the MAC line) of an age file. */
export function headerLength(file: Buffer): number {
  return file.indexOf('\n', file.indexOf('\n---') + 1) + 1;
}
