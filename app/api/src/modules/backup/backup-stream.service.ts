// Stream plumbing of backups: byte counting and SHA-256 on the way through, one encrypted stream
// fanned out to several targets at once (a failing target drops out, the others carry on).
import { createHash } from 'node:crypto';
import { PassThrough, Readable, Transform, Writable, type TransformCallback } from 'node:stream';

/** Counts bytes and hashes them while passing them on. */
export class Measure extends Transform {
  bytes = 0;
  readonly #hash = createHash('sha256');
  readonly #onBytes: ((n: number) => void) | undefined;
  constructor(onBytes?: (n: number) => void) {
    super({ highWaterMark: 1 << 20 });
    this.#onBytes = onBytes;
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback) {
    this.bytes += chunk.length;
    this.#hash.update(chunk);
    this.#onBytes?.(chunk.length);
    cb(null, chunk);
  }
  digest(): string {
    return this.#hash.digest('hex');
  }
}

/** A sink that only counts (decryptability checks, where the plaintext is not needed). */
export function discard(onBytes?: (n: number) => void): Writable & { bytes: number } {
  const sink = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _e, cb) {
      sink.bytes += chunk.length;
      onBytes?.(chunk.length);
      cb();
    },
  }) as Writable & { bytes: number };
  sink.bytes = 0;
  return sink;
}

export type Settled<T> = { ok: true; value: T } | { ok: false; error: Error };

/**
 * Feeds `source` to every consumer (each gets its own readable). Backpressure follows the slowest
 * live consumer; a consumer that fails is cut off and the rest continue. If every consumer has
 * failed, the source is destroyed (which stops the producer, e.g. pg_dump).
 */
export async function fanOut<T>(source: Readable, consumers: ((input: Readable) => Promise<T>)[]): Promise<Settled<T>[]> {
  const lanes = consumers.map((consume) => {
    const pass = new PassThrough({ highWaterMark: 1 << 20 });
    const lane = { pass, alive: true, result: undefined as unknown as Promise<Settled<T>> };
    lane.result = consume(pass).then(
      (value) => ({ ok: true as const, value }),
      (error: Error) => {
        lane.alive = false;
        pass.destroy();
        if (lanes.every((l) => !l.alive)) source.destroy(error);
        else resumeIfDrained();
        return { ok: false as const, error };
      },
    );
    return lane;
  });
  let waiting = 0;
  const resumeIfDrained = () => {
    if (lanes.every((l) => !l.alive || !l.pass.writableNeedDrain)) source.resume();
  };
  source.on('data', (chunk: Buffer) => {
    for (const lane of lanes) {
      if (!lane.alive) continue;
      if (!lane.pass.write(chunk)) {
        waiting++;
        source.pause();
        lane.pass.once('drain', () => {
          waiting--;
          resumeIfDrained();
        });
      }
    }
  });
  source.once('end', () => lanes.forEach((l) => l.alive && l.pass.end()));
  source.once('error', (err) => lanes.forEach((l) => l.alive && l.pass.destroy(err)));
  source.once('close', () => {
    // Destroyed without 'end' or 'error' (e.g. every consumer failed): release the lanes.
    if (!source.readableEnded) lanes.forEach((l) => l.alive && l.pass.destroy(new Error('source closed early')));
  });
  void waiting;
  return Promise.all(lanes.map((l) => l.result));
}

/** Reads a whole (small) readable into memory. */
export async function readAll(input: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of input) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

export const fromBuffer = (b: Buffer) => Readable.from([b], { objectMode: false });
