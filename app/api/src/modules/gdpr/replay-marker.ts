// "Erasure replay pending": a file in the data directory that a restore writes just before its
// database transaction commits and that only a completed erasure-ledger replay removes. While it
// exists the server refuses to start, so a restored database that may still hold patients erased
// after the snapshot is never served (Art. 17). docs/restore.md explains why a marker and not one
// transaction: the replay also deletes blob files and needs the restored configuration's ledger.
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../core/errors.ts';

export const replayMarkerFile = (dataDir: string) => path.join(dataDir, 'erasure-replay.pending');

export async function markReplayPending(dataDir: string, why: string): Promise<void> {
  await writeFile(replayMarkerFile(dataDir), JSON.stringify({ since: new Date().toISOString(), why }) + '\n', { mode: 0o600 });
}

export async function clearReplayPending(dataDir: string): Promise<void> {
  await rm(replayMarkerFile(dataDir), { force: true });
}

/** Throws (naming the command that clears it) while a restore's erasure replay has not completed. */
export async function assertNoReplayPending(dataDir: string): Promise<void> {
  const text = await readFile(replayMarkerFile(dataDir), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (text === undefined) return;
  const why = (() => {
    try {
      return String((JSON.parse(text) as { why?: unknown }).why ?? 'a restore');
    } catch {
      return 'a restore';
    }
  })();
  throw new AppError(
    503,
    'erasure_replay_pending',
    `the erasure-ledger replay after ${why} has not completed: the database may still hold erased patients. ` +
      `Run "praxiskern erasure replay" (it removes ${replayMarkerFile(dataDir)} when it succeeds), then start the server`,
  );
}
