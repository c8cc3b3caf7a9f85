// Nothing from a target is used before it is proven: the signature covers only the manifest, so
// the manifest's size and SHA-256 of every other file are what makes it trustworthy. Restore and
// drill therefore first copy an encrypted file into a local staging directory while hashing it,
// compare with the manifest, and only then decrypt the checked local copy into a tool (pg_restore,
// psql, tar). A swapped file (age recipients are public) never reaches a tool. The copy stays
// encrypted on disk; the caller removes its staging directory.
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { decryptStream } from './age/index.ts';
import { Measure } from './backup-stream.service.ts';
import type { RunningTool } from './pg-dump.repository.ts';
import type { BackupTarget } from './targets/index.ts';
import { snapshotBroken } from './verify.service.ts';

export interface Checkable {
  path: string;
  size: number;
  sha256: string;
}

/** What is wrong with the bytes `measure` saw, compared with the manifest's entry, if anything. */
export function measuredProblem(entry: Checkable, measure: Measure): Error | undefined {
  if (measure.bytes !== entry.size) return snapshotBroken(`${entry.path}: size ${measure.bytes} differs from the manifest's ${entry.size} (truncated or altered)`);
  if (measure.digest() !== entry.sha256) return snapshotBroken(`${entry.path}: SHA-256 differs from the manifest (truncated or altered; not used)`);
  return undefined;
}

/**
 * Copies an encrypted file from the target to `local` (one pass, hashing on the way) and throws
 * unless its size and SHA-256 equal the manifest's; a refused copy is deleted.
 */
export async function fetchChecked(target: BackupTarget, entry: Checkable, local: string, onBytes?: (n: number) => void): Promise<string> {
  const measure = new Measure(onBytes);
  try {
    await pipeline(await target.get(entry.path), measure, createWriteStream(local, { mode: 0o600 }));
    const problem = measuredProblem(entry, measure);
    if (problem) throw problem;
  } catch (err) {
    await rm(local, { force: true });
    throw err;
  }
  return local;
}

/** The local copy's name inside a staging directory. */
export const stagedPath = (dir: string, entry: Checkable) => path.join(dir, path.posix.basename(entry.path));

/** Decrypts a checked local copy into a tool's stdin and waits for the tool; on failure the tool is killed. */
export async function decryptInto(local: string, identities: string[], tool: RunningTool & { stdin: Writable }, onBytes?: (n: number) => void): Promise<void> {
  const input = createReadStream(local, { highWaterMark: 1 << 20 });
  if (onBytes) input.on('data', (chunk) => onBytes(chunk.length));
  try {
    await pipeline(input, decryptStream(identities), tool.stdin);
  } catch (err) {
    tool.child.kill('SIGKILL');
    await tool.done.catch(() => undefined);
    throw err;
  }
  await tool.done;
}
