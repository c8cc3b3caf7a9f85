// Restore onto a fresh install (the app stopped): database (pg_restore as the owner, in one
// transaction), blobs, configuration; then the erasure ledger is re-applied, so an old backup
// never brings an erased patient back, and the catalog is re-indexed from the target. The master
// key is never in a backup in usable form: the app comes up sealed and waits for the passphrase.
import { createWriteStream } from 'node:fs';
import { appendFile, chmod, copyFile, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, conflict } from '../../core/errors.ts';
import { log } from '../../core/context.ts';
import { createDb } from '../../db/connection.ts';
import { MIGRATIONS } from '../../db/migrate.ts';
import { auditStandalone } from '../audit/audit.service.ts';
import { blobDir } from '../documents/blob.repository.ts';
import { replayErasureLedger, type ReplayResult } from '../gdpr/erasure.service.ts';
import { ledgerFile } from '../gdpr/ledger-file.ts';
import { decryptStream } from './age/index.ts';
import { appKeyPath } from './backup-config.service.ts';
import { closeTargets, reasonOf, withBackupLock, type BackupRuntime } from './backup-runtime.service.ts';
import { Measure } from './backup-stream.service.ts';
import * as repo from './backup.repository.ts';
import { blobPath, type Manifest, type ManifestFile } from './manifest.ts';
import { startPgRestore, startTarExtract, type RunningTool } from './pg-dump.repository.ts';
import { checkFile, completeSnapshots, pickSnapshot, readManifest, snapshotBroken } from './verify.service.ts';
import type { BackupTarget } from './targets/index.ts';

export interface RestoreOptions {
  identities: string[];
  target?: string;
  snapshotId?: string;
  /** Replace a database that already holds a set-up installation. */
  force?: boolean;
}

export interface RestoreResult {
  target: string;
  snapshotId: string;
  takenAt: string;
  appVersion: string;
  schemaVersion: string;
  tables: number;
  rows: number;
  blobs: number;
  bytes: number;
  config: { appKeyRestored: boolean; ledgerEntriesMerged: number; files: string[] };
  erasure: ReplayResult;
  catalog: { snapshots: number };
  sealed: true;
  seconds: { database: number; blobs: number; config: number; total: number };
}

/**
 * A sink that feeds a tool's stdin and ends it only if `verdict` finds the input whole; otherwise it
 * kills the tool (pg_restore then rolls its single transaction back).
 */
function guardedSink(tool: RunningTool & { stdin: Writable }, verdict: () => Error | undefined): Writable {
  const sink = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _e, cb) {
      if (tool.stdin.write(chunk)) cb();
      else tool.stdin.once('drain', () => cb());
    },
    final(cb) {
      const problem = verdict();
      if (problem) {
        tool.child.kill('SIGKILL');
        cb(problem);
      } else tool.stdin.end(() => cb());
    },
    destroy(err, cb) {
      if (err) tool.child.kill('SIGKILL');
      cb(err);
    },
  });
  tool.stdin.on('error', (err) => sink.destroy(err));
  return sink;
}

const verdictFor = (entry: { path: string; size: number; sha256: string }, measure: Measure) => () => {
  if (measure.bytes !== entry.size) return snapshotBroken(`${entry.path}: size ${measure.bytes} differs from the manifest's ${entry.size}`);
  if (measure.digest() !== entry.sha256) return snapshotBroken(`${entry.path}: SHA-256 differs from the manifest (file altered)`);
  return undefined;
};

/** Streams an encrypted file through hash check and decryption into a tool; throws the tool's reason. */
export async function decryptInto(
  target: BackupTarget, entry: ManifestFile, identities: string[], tool: RunningTool & { stdin: Writable }, onBytes?: (n: number) => void,
): Promise<void> {
  const measure = new Measure(onBytes);
  try {
    await pipeline(await target.get(entry.path), measure, decryptStream(identities), guardedSink(tool, verdictFor(entry, measure)));
  } catch (err) {
    tool.child.kill('SIGKILL');
    await tool.done.catch(() => undefined);
    throw err;
  }
  await tool.done;
}

async function assertFreshDatabase(rt: BackupRuntime, force: boolean): Promise<void> {
  await repo.withOwnerClient(rt.ownerUrl, async (c) => {
    const { rows: others } = await c.query(
      `select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and application_name = 'praxiskern'`,
    );
    if (others[0].n > 0) throw conflict('the app is still connected to the database: stop it before restoring (systemctl stop praxiskern)');
    const { rows } = await c.query(`select to_regclass('public.installation') is not null as has`);
    if (!rows[0].has) return;
    const { rows: inst } = await c.query('select initialized_at from installation where id = 1');
    if (inst[0]?.initialized_at && !force) {
      throw conflict('the database already holds a set-up installation: restore onto a fresh install, or pass --force to replace it');
    }
  });
}

async function restoreBlobs(rt: BackupRuntime, target: BackupTarget, manifest: Manifest, identities: string[]): Promise<number> {
  const root = blobDir(rt.settings.dataDir);
  let next = 0;
  let done = 0;
  let bytes = 0;
  const one = async (blob: Manifest['blobs'][number]) => {
    const dir = path.join(root, blob.id.slice(0, 2));
    const file = path.join(dir, blob.id);
    if (await stat(file).catch(() => undefined)) return;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.tmp-restore`;
    const measure = new Measure((n) => rt.onProgress?.({ phase: 'blobs', bytes: (bytes += n), items: done, totalItems: manifest.blobs.length }));
    const entry = { path: blobPath(blob.id), size: blob.size, sha256: blob.sha256 };
    try {
      await pipeline(await target.get(entry.path), measure, decryptStream(identities), createWriteStream(tmp, { mode: 0o600 }));
      const problem = verdictFor(entry, measure)();
      if (problem) throw problem;
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    done++;
  };
  const workers = Array.from({ length: Math.min(4, manifest.blobs.length) }, async () => {
    while (next < manifest.blobs.length) await one(manifest.blobs[next++]);
  });
  await Promise.all(workers);
  return bytes;
}

/** Extracts the configuration archive to a private staging directory and applies what a new server needs. */
async function restoreConfig(rt: BackupRuntime, target: BackupTarget, manifest: Manifest, identities: string[]): Promise<RestoreResult['config']> {
  const entry = manifest.files.find((f) => f.role === 'config');
  if (!entry) throw snapshotBroken('the manifest names no configuration archive');
  const staging = path.join(rt.settings.dataDir, 'restore', manifest.snapshotId);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true, mode: 0o700 });
  try {
    await decryptInto(target, entry, identities, startTarExtract(staging));
    const files = await listFiles(staging);
    let appKeyRestored = false;
    if (manifest.config.appKeyPath) {
      const src = path.join(staging, manifest.config.appKeyPath);
      const dst = appKeyPath(rt.env, rt.settings.dataDir);
      await mkdir(path.dirname(dst), { recursive: true, mode: 0o700 });
      await copyFile(src, dst);
      await chmod(dst, 0o600);
      appKeyRestored = true;
    }
    // The ledger file travels with the configuration; lines the local file lacks are appended.
    let ledgerEntriesMerged = 0;
    const backedUp = files.find((f) => f.endsWith('/ledger/erasure-ledger.jsonl'));
    if (backedUp) {
      const local = ledgerFile(rt.settings.dataDir);
      const have = new Set((await readFile(local, 'utf8').catch(() => '')).split('\n').filter(Boolean));
      const add = (await readFile(path.join(staging, backedUp), 'utf8')).split('\n').filter((l) => l && !have.has(l));
      if (add.length) {
        await mkdir(path.dirname(local), { recursive: true, mode: 0o700 });
        await appendFile(local, add.join('\n') + '\n', { mode: 0o600 });
      }
      ledgerEntriesMerged = add.length;
    }
    return { appKeyRestored, ledgerEntriesMerged, files };
  } finally {
    // Nothing of the archive stays on disk: database passwords of the old server are of no use here.
    await rm(staging, { recursive: true, force: true });
  }
}

async function listFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, r)));
    else out.push(r);
  }
  return out;
}

/** Rebuilds the catalog of a target from its manifests (the restored one predates its own snapshot). */
export async function reindexTarget(rt: BackupRuntime, target: BackupTarget, identities: string[]): Promise<number> {
  const db = rt.services.db;
  let n = 0;
  for (const id of await completeSnapshots(target)) {
    const { manifest, sha256 } = await readManifest(target, id, identities);
    await repo.upsertSnapshot(db, {
      target: target.name, snapshot_id: id, taken_at: new Date(manifest.startedAt), job_id: manifest.jobId,
      size_bytes: manifest.files.reduce((s, f) => s + f.size, 0) + manifest.blobs.reduce((s, b) => s + b.size, 0),
      file_count: manifest.files.length + 1, blob_count: manifest.blobs.length, manifest_sha256: sha256,
      app_version: manifest.appVersion, schema_version: manifest.schemaVersion,
    });
    for (const b of manifest.blobs) await repo.recordBlob(db, target.name, b, id);
    n++;
  }
  return n;
}

export async function restoreSnapshot(rt: BackupRuntime, opts: RestoreOptions): Promise<RestoreResult> {
  const t0 = Date.now();
  const targets = rt.targets(opts.target);
  if (targets.length === 0) throw new AppError(409, 'backup_no_target', 'no backup target: pass --target local:/path or sftp://… or set PRAXISKERN_BACKUP_TARGETS');
  try {
    const target = targets[0];
    const snapshotId = await pickSnapshot(target, opts.snapshotId);
    const { manifest } = await readManifest(target, snapshotId, opts.identities);
    if (!(manifest.schemaVersion in MIGRATIONS)) {
      throw conflict(`snapshot ${snapshotId} has schema ${manifest.schemaVersion}, which this version (${rt.services.version}) does not know: install Praxiskern ${manifest.appVersion} or newer first`);
    }
    await assertFreshDatabase(rt, Boolean(opts.force));

    const db = manifest.files.find((f) => f.role === 'database');
    if (!db) throw snapshotBroken('the manifest names no database dump');
    if (opts.force) {
      // Existing data is about to be replaced: prove the dump whole before emptying anything.
      const problem = await checkFile(target, db, opts.identities);
      if (problem) throw snapshotBroken(`${problem.path}: ${problem.reason}`);
    }
    await repo.withOwnerClient(rt.ownerUrl, (c) => repo.emptyPublicSchema(c));
    let dbBytes = 0;
    await decryptInto(target, db, opts.identities, startPgRestore(rt.settings.pgBinDir, rt.ownerUrl), (n) =>
      rt.onProgress?.({ phase: 'database', bytes: (dbBytes += n), totalBytes: db.size }),
    );
    const t1 = Date.now();
    const blobBytes = await restoreBlobs(rt, target, manifest, opts.identities);
    const t2 = Date.now();
    rt.onProgress?.({ phase: 'config', bytes: 0 });
    const config = await restoreConfig(rt, target, manifest, opts.identities);
    const t3 = Date.now();

    // Before anything serves traffic: erase again whoever was erased after this snapshot.
    const owner = createDb(rt.ownerUrl, 2);
    let erasure: ReplayResult;
    try {
      erasure = await replayErasureLedger(owner, { dataDir: rt.settings.dataDir });
    } finally {
      await owner.destroy();
    }

    // The dump was taken while its own job ran; mark it, and any other unfinished job, for what it is.
    const appDb = rt.services.db;
    await appDb('backup_jobs').where({ status: 'running' }).update({
      status: appDb.raw(`case when id = ? then 'succeeded' else 'failed' end`, [manifest.jobId ?? '00000000-0000-0000-0000-000000000000']),
      finished_at: appDb.fn.now(),
      error: appDb.raw(`case when id = ? then null else 'interrupted: restored from a backup' end`, [manifest.jobId ?? '00000000-0000-0000-0000-000000000000']),
    });
    let catalogSnapshots = 0;
    for (const t of [target, ...openOthers(rt, target)]) {
      catalogSnapshots += await reindexTarget(rt, t, opts.identities).catch((err) => {
        log().warn({ target: t.name, err: reasonOf(err).message }, 'catalog re-index failed; blob pruning waits until it succeeds');
        return 0;
      });
    }
    await auditStandalone(appDb, {
      action: 'backup.restore', objectType: 'backup_snapshot', objectId: snapshotId, organizationId: null,
      details: { target: target.name, erasedAgain: erasure.patientsErasedAgain.length },
    }).catch(() => undefined);
    return {
      target: target.name,
      snapshotId,
      takenAt: manifest.startedAt,
      appVersion: manifest.appVersion,
      schemaVersion: manifest.schemaVersion,
      tables: Object.keys(manifest.tables).length,
      rows: Object.values(manifest.tables).reduce((a, b) => a + b, 0),
      blobs: manifest.blobs.length,
      bytes: db.size + blobBytes,
      config: { ...config, files: config.files },
      erasure,
      catalog: { snapshots: catalogSnapshots },
      sealed: true,
      seconds: { database: (t1 - t0) / 1000, blobs: (t2 - t1) / 1000, config: (t3 - t2) / 1000, total: (Date.now() - t0) / 1000 },
    };
  } finally {
    await closeTargets(targets);
  }
}

function openOthers(rt: BackupRuntime, restoredFrom: BackupTarget): BackupTarget[] {
  try {
    return rt.targets().filter((t) => t.name !== restoredFrom.name);
  } catch {
    return [];
  }
}

/** With the backup lock, for callers inside a running installation (the lock lives in the database). */
export const restoreLocked = (rt: BackupRuntime, opts: RestoreOptions) => withBackupLock(rt, () => restoreSnapshot(rt, opts));
