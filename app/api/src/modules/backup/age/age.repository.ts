// File convenience around age: the only age code that touches the file system.
import { createReadStream, createWriteStream } from 'node:fs';
import { open, readFile, rm, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { decryptStream } from './age-decrypt.service.ts';
import { startEncryption } from './age-encrypt.service.ts';
import { CHUNK_SIZE, type ChunkCipher } from './stream.ts';

/** Plaintext read per step: a multiple of the chunk size; two such buffers are in use. */
const BLOCK_SIZE = 64 * CHUNK_SIZE;

async function readBlock(input: FileHandle, buffer: Buffer): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await input.read(buffer, filled, buffer.length - filled, null);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/** writev until everything is written: a short write (e.g. a disk filling up) must not go unnoticed. */
async function writeAll(output: FileHandle, buffers: Buffer[]): Promise<void> {
  let rest = buffers.filter((b) => b.length > 0);
  while (rest.length > 0) {
    let { bytesWritten } = await output.writev(rest);
    while (rest.length > 0 && bytesWritten >= rest[0].length) bytesWritten -= rest.shift()!.length;
    if (rest.length > 0) rest = [rest[0].subarray(bytesWritten), ...rest.slice(1)];
  }
}

/** Marks a promise as handled: it is awaited later, and may fail while another one is awaited. */
function observed<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** Removes `dst` if `work` fails, so a failed run never leaves a partial file behind. */
async function orRemove(dst: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    await rm(dst, { force: true });
    throw err;
  }
}

/**
 * Seals `input` into `output`. Double-buffered: while block k is sealed on this thread, block k+1
 * is read and block k-1 written by the thread pool — the reason this beats a stream pipeline.
 */
async function sealFile(input: FileHandle, output: FileHandle, preamble: Buffer, chunks: ChunkCipher) {
  const buffers = [Buffer.allocUnsafe(BLOCK_SIZE), Buffer.allocUnsafe(BLOCK_SIZE)];
  let writing = observed(writeAll(output, [preamble]));
  let block = buffers[0];
  let length = await readBlock(input, block);
  for (let turn = 1; ; turn++) {
    const next = buffers[turn % 2];
    const reading = length === BLOCK_SIZE ? readBlock(input, next) : Promise.resolve(0);
    const sealed: Buffer[] = [];
    let offset = 0;
    for (; length - offset > CHUNK_SIZE; offset += CHUNK_SIZE) sealed.push(...chunks.seal(block.subarray(offset, offset + CHUNK_SIZE), false));
    const nextLength = await reading;
    sealed.push(...chunks.seal(block.subarray(offset, length), nextLength === 0));
    await writing;
    writing = observed(writeAll(output, sealed));
    if (nextLength === 0) break;
    [block, length] = [next, nextLength];
  }
  await writing;
}

export async function encryptFile(src: string, dst: string, recipients: string[]): Promise<void> {
  const { preamble, chunks } = startEncryption(recipients);
  const input = await open(src, 'r');
  try {
    await orRemove(dst, async () => {
      const output = await open(dst, 'w');
      try {
        await sealFile(input, output, preamble, chunks);
      } finally {
        await output.close();
      }
    });
  } finally {
    await input.close();
  }
}

/** Decrypts `src` into `dst`; on failure `dst` is removed, so no partial plaintext stays. */
export async function decryptFile(src: string, dst: string, identities: string[]): Promise<void> {
  const transform = decryptStream(identities);
  await orRemove(dst, () => pipeline(createReadStream(src, { highWaterMark: BLOCK_SIZE }), transform, createWriteStream(dst)));
}

/** Reads identities from an age identity file (as written by age-keygen: comments and one key a line). */
export async function readIdentityFile(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}
