// Restore onto a fresh install (the app stopped), all or nothing: the manifest's signature is
// checked first; the signature covers only the manifest, so every other file is proven against
// the manifest's size and SHA-256 before any tool reads it (checked-copy.ts): blobs are decrypted
// into a staging directory, the configuration archive and the dump are copied there encrypted and
// checked first; then the database is emptied and restored in ONE transaction; only then are the
// staged files moved into place. A damaged or swapped file leaves database and data directory as
// they were. Just before the commit a replay marker is written (gdpr/replay-marker.ts): the server
// refuses to start until the erasure ledger has been re-applied, so an old backup never serves an
// erased patient again. Then the catalog is re-indexed from the target. The master key is never in
// a backup in usable form: the app comes up sealed and waits for the passphrase.
import type { KeyObject } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { AppError, conflict } from '../../core/errors.ts';
import { log } from '../../core/context.ts';
import { createDb } from '../../db/connection.ts';
import { MIGRATIONS } from '../../db/migrate.ts';
import { auditStandalone } from '../audit/audit.service.ts';
import { blobDir } from '../documents/blob.repository.ts';
import { replayErasureLedger, type ReplayResult } from '../gdpr/erasure.service.ts';
import { mergeLedgerFile } from '../gdpr/ledger-file.ts';
import { markReplayPending } from '../gdpr/replay-marker.ts';
import { decryptStream } from './age/index.ts';
import { appKeyPath } from './backup-config.service.ts';
import { closeTargets, reasonOf, withBackupLock, type BackupRuntime } from './backup-runtime.service.ts';
import { Measure } from './backup-stream.service.ts';
import { decryptInto, fetchChecked, measuredProblem, stagedPath } from './checked-copy.ts';
import * as repo from './backup.repository.ts';
import { blobPath, type Manifest } from './manifest.ts';
import { trustedSigners } from './manifest-signature.ts';
import { startPgRestoreScript, startPsqlTransaction, startTarExtract } from './pg-dump.repository.ts';
import { completeSnapshots, pickSnapshot, readManifest, snapshotBroken } from './verify.service.ts';
import type { BackupTarget } from './targets/index.ts';

export interface RestoreOptions {
  identities: string[];
  /** Public backup signing keys to trust besides this installation's own (the recovery kit's). */
  signers?: string[];
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

/** Decrypts every blob the data directory lacks into `dir` (same layout), each checked against its hash. */
async function stageBlobs(rt: BackupRuntime, target: BackupTarget, manifest: Manifest, identities: string[], dir: string): Promise<number> {
  const root = blobDir(rt.settings.dataDir);
  let next = 0;
  let done = 0;
  let bytes = 0;
  const one = async (blob: Manifest['blobs'][number]) => {
    if (await stat(path.join(root, blob.id.slice(0, 2), blob.id)).catch(() => undefined)) return;
    await mkdir(path.join(dir, blob.id.slice(0, 2)), { recursive: true, mode: 0o700 });
    const measure = new Measure((n) => rt.onProgress?.({ phase: 'blobs', bytes: (bytes += n), items: done, totalItems: manifest.blobs.length }));
    const entry = { path: blobPath(blob.id), size: blob.size, sha256: blob.sha256 };
    // A blob is only decrypted into staging (never consumed) before its hash is checked.
    await pipeline(await target.get(entry.path), measure, decryptStream(identities), createWriteStream(path.join(dir, blob.id.slice(0, 2), blob.id), { mode: 0o600 }));
    const problem = measuredProblem(entry, measure);
    if (problem) throw problem;
    done++;
  };
  const workers = Array.from({ length: Math.min(4, manifest.blobs.length) }, async () => {
    while (next < manifest.blobs.length) await one(manifest.blobs[next++]);
  });
  await Promise.all(workers);
  return bytes;
}

/** Moves staged blobs into the data directory (same file system: renames). */
async function commitBlobs(rt: BackupRuntime, dir: string): Promise<void> {
  const root = blobDir(rt.settings.dataDir);
  for (const shard of await readdir(dir).catch(() => [] as string[])) {
    await mkdir(path.join(root, shard), { recursive: true, mode: 0o700 });
    for (const name of await readdir(path.join(dir, shard))) await rename(path.join(dir, shard, name), path.join(root, shard, name));
  }
}

/** A regular file inside `dir` (no symlink, no escape), or undefined. */
async function regularFileIn(dir: string, rel: string): Promise<string | undefined> {
  const full = path.resolve(dir, `.${path.posix.sep}${rel}`);
  if (!full.startsWith(`${path.resolve(dir)}${path.sep}`)) return undefined;
  const st = await lstat(full).catch(() => undefined);
  return st?.isFile() ? full : undefined;
}

/** Extracts the configuration archive into a private staging directory, from a local copy checked first. */
async function stageConfig(target: BackupTarget, manifest: Manifest, identities: string[], staging: string, dir: string): Promise<string[]> {
  const entry = manifest.files.find((f) => f.role === 'config')!;
  const local = await fetchChecked(target, entry, stagedPath(staging, entry));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await decryptInto(local, identities, startTarExtract(dir));
  await rm(local, { force: true });
  const files = await listFiles(dir);
  if (manifest.config.appKeyPath && !(await regularFileIn(dir, manifest.config.appKeyPath))) {
    throw snapshotBroken(`config.tar.age holds no regular file at the manifest's appKeyPath ${manifest.config.appKeyPath}`);
  }
  return files;
}

/** Applies what a new server needs from the staged configuration: the app key, the erasure-ledger file. */
async function applyConfig(rt: BackupRuntime, manifest: Manifest, dir: string, files: string[]): Promise<RestoreResult['config']> {
  let appKeyRestored = false;
  if (manifest.config.appKeyPath) {
    const dst = appKeyPath(rt.env, rt.settings.dataDir);
    await mkdir(path.dirname(dst), { recursive: true, mode: 0o700 });
    await copyFile((await regularFileIn(dir, manifest.config.appKeyPath))!, dst);
    await chmod(dst, 0o600);
    appKeyRestored = true;
  }
  // The ledger file travels with the configuration; lines the local file lacks are appended.
  const backedUp = files.find((f) => f.endsWith('/ledger/erasure-ledger.jsonl'));
  const ledgerFile = backedUp ? await regularFileIn(dir, backedUp) : undefined;
  const ledgerEntriesMerged = ledgerFile ? await mergeLedgerFile(rt.settings.dataDir, await readFile(ledgerFile, 'utf8')) : 0;
  return { appKeyRestored, ledgerEntriesMerged, files };
}

/**
 * Empties the database and restores the dump (a local copy whose size and SHA-256 were already
 * checked) in ONE transaction: pg_restore turns the archive into a script that psql runs after the
 * emptying; psql's input ends (and so it commits) only after pg_restore finished. Any failure
 * kills psql: nothing commits. Just before the commit the erasure replay is marked pending.
 */
async function restoreDatabase(rt: BackupRuntime, local: string, identities: string[], manifest: Manifest): Promise<void> {
  const size = manifest.files.find((f) => f.role === 'database')!.size;
  let done = 0;
  const psql = startPsqlTransaction(rt.settings.pgBinDir, rt.ownerUrl);
  const script = startPgRestoreScript(rt.settings.pgBinDir);
  psql.stdin.on('error', () => undefined); // psql stopped at an error: psql.done carries the reason
  const scriptEnded = new Promise<void>((resolve, reject) => {
    script.stdout.once('end', resolve);
    script.stdout.once('error', reject);
  });
  const endedEarly = psql.done.then(() => {
    throw new AppError(500, 'backup_tool_failed', 'psql: ended before the whole dump was read');
  });
  try {
    psql.stdin.write(`${repo.EMPTY_PUBLIC_SCHEMA_SQL}\n`);
    script.stdout.pipe(psql.stdin, { end: false });
    await Promise.race([
      (async () => {
        await decryptInto(local, identities, script, (n) => rt.onProgress?.({ phase: 'database', bytes: (done += n), totalBytes: size }));
        await scriptEnded;
      })(),
      endedEarly,
    ]);
  } catch (err) {
    psql.child.kill('SIGKILL');
    script.child.kill('SIGKILL');
    await Promise.all([psql.done.catch(() => undefined), script.done.catch(() => undefined)]);
    throw err;
  }
  // From here on the restore may be committed: until the ledger replay has run, nothing serves it.
  await markReplayPending(rt.settings.dataDir, `restore of snapshot ${manifest.snapshotId}`);
  psql.stdin.end();
  await psql.done;
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
export async function reindexTarget(rt: BackupRuntime, target: BackupTarget, identities: string[], signers: KeyObject[]): Promise<number> {
  const db = rt.services.db;
  let n = 0;
  for (const id of await completeSnapshots(target)) {
    const { manifest, sha256 } = await readManifest(target, id, identities, signers).catch((err) => {
      log().warn({ target: target.name, snapshotId: id, err: reasonOf(err).message }, 'snapshot left out of the catalog');
      return { manifest: undefined, sha256: '' };
    });
    if (!manifest) continue;
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
  const signers = trustedSigners(rt.services.appKey, opts.signers);
  const targets = rt.targets(opts.target);
  if (targets.length === 0) throw new AppError(409, 'backup_no_target', 'no backup target: pass --target local:/path or sftp://… or set PRAXISKERN_BACKUP_TARGETS');
  try {
    const target = targets[0];
    const snapshotId = await pickSnapshot(target, opts.snapshotId);
    const { manifest } = await readManifest(target, snapshotId, opts.identities, signers);
    if (!(manifest.schemaVersion in MIGRATIONS)) {
      throw conflict(`snapshot ${snapshotId} has schema ${manifest.schemaVersion}, which this version (${rt.services.version}) does not know: install Praxiskern ${manifest.appVersion} or newer first`);
    }
    await assertFreshDatabase(rt, Boolean(opts.force));
    const db = manifest.files.find((f) => f.role === 'database')!;
    const staging = path.join(rt.settings.dataDir, 'restore', manifest.snapshotId);
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true, mode: 0o700 });
    let t1: number;
    let t2: number;
    let blobBytes: number;
    let config: RestoreResult['config'];
    try {
      // 1. Stage blobs and configuration: a damaged file stops the restore before anything changed.
      blobBytes = await stageBlobs(rt, target, manifest, opts.identities, path.join(staging, 'blobs'));
      t1 = Date.now();
      rt.onProgress?.({ phase: 'config', bytes: 0 });
      const configFiles = await stageConfig(target, manifest, opts.identities, staging, path.join(staging, 'config'));
      t2 = Date.now();
      // 2. The dump: copied and checked before pg_restore sees a byte of it (the signature covers
      //    only the manifest), then restored in one transaction.
      let dbBytes = 0;
      const dump = await fetchChecked(target, db, stagedPath(staging, db), (n) => rt.onProgress?.({ phase: 'download', bytes: (dbBytes += n), totalBytes: db.size }));
      await restoreDatabase(rt, dump, opts.identities, manifest);
      // 3. Only now the files: renames within the data directory.
      await commitBlobs(rt, path.join(staging, 'blobs'));
      config = await applyConfig(rt, manifest, path.join(staging, 'config'), configFiles);
    } finally {
      // Nothing of the archive stays on disk: database passwords of the old server are of no use here.
      await rm(staging, { recursive: true, force: true });
    }
    const t3 = Date.now();

    // Before anything serves traffic: erase again whoever was erased after this snapshot. Until this
    // succeeds the replay marker (written before the commit) keeps the server from starting.
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
      catalogSnapshots += await reindexTarget(rt, t, opts.identities, signers).catch((err) => {
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
      config,
      erasure,
      catalog: { snapshots: catalogSnapshots },
      sealed: true,
      seconds: { blobs: (t1 - t0) / 1000, config: (t2 - t1) / 1000, database: (t3 - t2) / 1000, total: (Date.now() - t0) / 1000 },
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
