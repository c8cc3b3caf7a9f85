// File convenience around the age streams: the only age code that touches the file system.
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decryptStream } from './age-decrypt.service.ts';
import { encryptStream } from './age-encrypt.service.ts';

/** Large reads: fewer stream turns per byte; memory stays bounded by the stream high-water marks. */
const READ_CHUNK = 1 << 20;

/** Streams `src` through `transform` into `dst`; on failure `dst` is removed, so no partial file stays. */
async function transformFile(src: string, dst: string, transform: Transform): Promise<void> {
  try {
    await pipeline(createReadStream(src, { highWaterMark: READ_CHUNK }), transform, createWriteStream(dst));
  } catch (err) {
    await rm(dst, { force: true });
    throw err;
  }
}

export const encryptFile = (src: string, dst: string, recipients: string[]) => transformFile(src, dst, encryptStream(recipients));

export const decryptFile = (src: string, dst: string, identities: string[]) => transformFile(src, dst, decryptStream(identities));

/** Reads identities from an age identity file (as written by age-keygen: comments and one key a line). */
export async function readIdentityFile(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}
