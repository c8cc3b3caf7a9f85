// The container side of updates (docs/update-history.md). The host updater
// (/usr/local/bin/praxiskern update BUNDLE, on the server) runs these in the worker:
//   migrations [--json]                         known, applied and pending migrations
//   update-gate --expect-migration NAME [--json]  the health gate; exit 0 ok, 3 ok but sealed, 1 failed
//   update-record --json-file FILE|- [--json]     one run of the update history (upsert by id)
// `update` and `rollback` themselves run on the host, never in a container: exit 64 with one line.
import { readFileSync } from 'node:fs';
import { loadConfig } from '@praxiskern/api/core/config.ts';
import { runWithContext, systemContext } from '@praxiskern/api/core/context.ts';
import { createDb, type Db } from '@praxiskern/api/db/connection.ts';
import { migrationState } from '@praxiskern/api/db/migrate.ts';
import { VERSION } from '@praxiskern/api/version.ts';
import { readyzProbe, runUpdateGate, type SealProbe } from '@praxiskern/api/modules/updates/update-gate.service.ts';
import { recordUpdate } from '@praxiskern/api/modules/updates/update-history.service.ts';
import { MAX_RECORD_BYTES, parseUpdateRecord, UpdateRecordInvalid } from '@praxiskern/api/modules/updates/update-record.ts';
import { adminRequest } from './admin-client.ts';
import { OWNER_ROLE_ONLY } from './backup-commands.ts';
import { cliDatabase } from './database.ts';
import { fail, output, usageError, type Command, type Values } from './command.ts';


/** The database for a read: the owner role where this process holds it (worker), else the application role. */
async function withReadDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  const urls = await cliDatabase(loadConfig());
  const db = createDb(urls.ownerUrl ?? urls.appUrl, 1);
  try {
    return await fn(db);
  } finally {
    await db.destroy();
    await urls.stop();
  }
}

const migrations: Command = {
  usage: `praxiskern migrations [--json]
The migrations this version knows (in order), those applied to the database, and those pending.`,
  options: {},
  async run(v) {
    const s = await withReadDb((db) => migrationState(db));
    output(v, { ...s }, [
      `${s.known.length} known, ${s.applied.length} applied, ${s.pending.length} pending.`,
      ...s.known.map((n) => `  ${s.applied.includes(n) ? 'applied' : 'PENDING'}  ${n}`),
      ...s.applied.filter((n) => !s.known.includes(n)).map((n) => `  UNKNOWN  ${n} (applied, but not a migration of this version)`),
    ].join('\n'));
    return 0;
  },
};

/** The worker's own seal state through its admin socket (PRAXISKERN_ADMIN_SOCKET). */
const workerProbe = (): SealProbe => ({
  name: 'worker',
  where: loadConfig().adminSocket,
  async probe() {
    const res = await adminRequest('GET', '/status');
    return res.status === 200 && typeof res.body.sealed === 'boolean' ? { sealed: res.body.sealed, version: String(res.body.version ?? '') } : undefined;
  },
});

const updateGate: Command = {
  usage: `praxiskern update-gate --expect-migration NAME [--app-url URL] [--json]
The health gate after an update: the database answers, NAME is the last applied migration and none is
pending, a smoke query over organizations, users, patients and the audit chains succeeds, and the seal
state of the worker (its admin socket) and of the app (its /readyz: --app-url, PRAXISKERN_APP_READYZ_URL,
default http://app:8080/readyz; empty = do not ask the app). Exit 0 = ok and unsealed, 3 = ok but
sealed (unseal, then run the gate again), 1 = a check failed.`,
  options: { 'expect-migration': { type: 'string' }, 'app-url': { type: 'string' } },
  async run(v) {
    const expect = v['expect-migration'];
    if (typeof expect !== 'string' || !expect.trim()) usageError('--expect-migration NAME is required (the last migration of the version being started)');
    const appUrl = typeof v['app-url'] === 'string' ? v['app-url'] : (process.env.PRAXISKERN_APP_READYZ_URL ?? 'http://app:8080/readyz');
    let urls: Awaited<ReturnType<typeof cliDatabase>> | undefined;
    let db: Db | undefined;
    try {
      urls = await cliDatabase(loadConfig());
      db = createDb(urls.ownerUrl ?? urls.appUrl, 1);
    } catch (err) {
      // No database at all: the gate still answers, with the database check failed.
      db = brokenDb(err);
    }
    try {
      const r = await runUpdateGate({ db, expectMigration: expect!, version: VERSION, worker: workerProbe(), app: appUrl ? readyzProbe(appUrl) : undefined });
      const human = [
        r.ok ? (r.sealed ? `Update gate passed for ${r.version}, but the server is SEALED: unseal it (praxiskern unseal), then run the gate again.` : `Update gate passed for ${r.version}.`) : `Update gate FAILED for ${r.version}.`,
        ...r.checks.map((c) => `  ${c.ok ? 'ok    ' : 'FAILED'} ${c.name}: ${c.detail}`),
      ].join('\n');
      if (v.json) process.stdout.write(JSON.stringify(r) + '\n');
      else (r.ok ? process.stdout : process.stderr).write(human + '\n');
      return !r.ok ? 1 : r.sealed ? 3 : 0;
    } finally {
      await db.destroy();
      await urls?.stop();
    }
  },
};

/** A stand-in whose every query fails with the reason the database could not be reached. */
function brokenDb(err: unknown): Db {
  const reason = err instanceof Error ? err : new Error(String(err));
  return { raw: async () => { throw reason; }, destroy: async () => {} } as unknown as Db;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size > MAX_RECORD_BYTES) break;
  }
  return Buffer.concat(chunks);
}

async function readRecordBytes(v: Values): Promise<Buffer> {
  const file = v['json-file'];
  if (typeof file !== 'string' || !file) usageError('--json-file FILE (or - for standard input) is required');
  if (file === '-') return readStdin();
  try {
    return readFileSync(file!);
  } catch (err) {
    return usageError(`--json-file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

const updateRecord: Command = {
  usage: `praxiskern update-record --json-file FILE|- [--json]
Records one update or rollback in the update history (upsert by its id; the same record twice changes
nothing). Fields: id (uuid), kind (update|rollback), fromVersion, toVersion, startedAt (ISO),
finishedAt (ISO|null; null exactly while outcome is running), outcome (running|succeeded|rolled_back|
failed|refused), by, durationSeconds (number|null), detail (text|null), forced, forceReason (required
when forced), snapshotRestored, phases (object of phase → seconds). The first record of a run adds
installation.update.started to the installation audit chain, the one that finishes it
installation.update.finished. Bad input: exit 64 with one line naming the field.`,
  options: { 'json-file': { type: 'string' } },
  async run(v) {
    let record;
    try {
      record = parseUpdateRecord(await readRecordBytes(v));
    } catch (err) {
      if (err instanceof UpdateRecordInvalid) usageError(`update-record: ${err.message}`);
      throw err;
    }
    const urls = await cliDatabase(loadConfig());
    if (!urls.ownerUrl) {
      await urls.stop();
      fail(OWNER_ROLE_ONLY);
    }
    const owner = createDb(urls.ownerUrl!, 1);
    try {
      const r = await runWithContext(systemContext('cli-update'), () => recordUpdate(owner, record)).catch((err) => {
        if (err instanceof UpdateRecordInvalid) usageError(`update-record: ${err.message}`);
        throw err;
      });
      const what = r.created ? 'recorded' : r.changed ? 'updated' : 'unchanged (already recorded)';
      output(v, { ...r }, `${record.kind === 'rollback' ? 'Rollback' : 'Update'} ${r.id} (${record.fromVersion} → ${record.toVersion}, ${record.outcome}): ${what}.`);
      return 0;
    } finally {
      await owner.destroy();
      await urls.stop();
    }
  },
};

export const updateCommands: Record<string, Command> = { migrations, 'update-gate': updateGate, 'update-record': updateRecord };
