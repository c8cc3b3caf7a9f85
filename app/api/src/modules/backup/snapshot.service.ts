// One backup run: a consistent pg_dump, the blobs the target lacks, the configuration archive,
// each age-encrypted on the way out, to every target at once; then the manifest, last; then
// retention. A target that fails drops out of the run without stopping the others.
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../core/errors.ts';
import { log } from '../../core/context.ts';
import { schemaVersion } from '../../db/migrate.ts';
import { auditStandalone } from '../audit/audit.service.ts';
import { blobDir } from '../documents/blob.repository.ts';
import { encryptStream } from './age/index.ts';
import { backupRecipients } from './backup-keys.service.ts';
import { closeTargets, reasonOf, withBackupLock, type BackupRuntime } from './backup-runtime.service.ts';
import { fanOut, fromBuffer, Measure, readAll } from './backup-stream.service.ts';
import * as repo from './backup.repository.ts';
import {
  blobPath, configPath, dbPath, manifestPath, MANIFEST_FORMAT, newSnapshotId, signaturePath, snapshotsOnTarget, snapshotDir,
  type Manifest, type ManifestBlob, type ManifestFile,
} from './manifest.ts';
import { backupSigningKey, signManifest, type SigningKey } from './manifest-signature.ts';
import type { TargetOutcome } from './metrics.ts';
import { pgToolVersion, startPgDump, startTarCreate, type RunningTool } from './pg-dump.repository.ts';
import { applyRetention, type PruneReport } from './prune.service.ts';
import type { BackupTarget } from './targets/index.ts';
import { refreshTargets } from './targets-config.service.ts';

export interface BackupRunResult {
  ok: boolean;
  jobId: string;
  snapshotId: string;
  durationSeconds: number;
  targets: Record<string, TargetOutcome & { complete: boolean; blobsUploaded?: number; blobsReused?: number; prune?: PruneReport }>;
  error?: string;
}

interface Lane {
  target: BackupTarget;
  error?: AppError | Error;
  bytes: number;
  files: ManifestFile[];
  blobs: ManifestBlob[];
  blobsUploaded: number;
  startedAt: number;
  complete: boolean;
  prune?: PruneReport;
}

/**
 * Lets the stream end only once the producing tool exited 0 (a failed dump never looks finished);
 * counts the unencrypted bytes on the way (the manifest's plainBytes).
 */
function gate(tool: RunningTool): Transform & { bytes: number } {
  const t = new Transform({
    transform: (chunk: Buffer, _e, cb) => {
      t.bytes += chunk.length;
      cb(null, chunk);
    },
    flush: (cb) => tool.done.then(() => cb(), (err) => cb(err)),
  }) as Transform & { bytes: number };
  t.bytes = 0;
  return t;
}

/**
 * Encrypts the manifest, signs the ciphertext and uploads the signature, then the manifest (last:
 * from then on the snapshot counts). Returns size and SHA-256 of manifest.json.age.
 */
async function putSignedManifest(target: BackupTarget, manifest: Manifest, recipients: string[], key: SigningKey): Promise<{ size: number; sha256: string }> {
  const sealed = await readAll(fromBuffer(Buffer.from(JSON.stringify(manifest))).pipe(encryptStream(recipients)));
  await target.put(signaturePath(manifest.snapshotId), fromBuffer(signManifest(key, sealed)));
  const measure = new Measure();
  const upload = target.put(manifestPath(manifest.snapshotId), measure);
  upload.catch((err) => measure.destroy(err));
  await Promise.all([pipeline(fromBuffer(sealed), measure), upload]);
  return { size: measure.bytes, sha256: measure.digest() };
}

/** Encrypts `source` to the recipients and uploads it; returns size and SHA-256 of the encrypted bytes. */
export async function encryptTo(target: BackupTarget, relPath: string, source: Readable, recipients: string[]): Promise<{ size: number; sha256: string }> {
  const measure = new Measure();
  const upload = target.put(relPath, measure);
  upload.catch((err) => measure.destroy(err));
  const sealing = pipeline(source, encryptStream(recipients), measure);
  sealing.catch(() => undefined);
  await Promise.all([sealing, upload]);
  return { size: measure.bytes, sha256: measure.digest() };
}

async function localBlobs(dataDir: string): Promise<{ id: string; file: string; size: number }[]> {
  const root = blobDir(dataDir);
  const out: { id: string; file: string; size: number }[] = [];
  for (const shard of (await readdir(root).catch(() => [] as string[])).sort()) {
    for (const name of (await readdir(path.join(root, shard)).catch(() => [] as string[])).sort()) {
      if (!/^[A-Za-z0-9_-]{20,64}$/.test(name)) continue; // temp files of writes in flight
      const file = path.join(root, shard, name);
      const s = await stat(file).catch(() => undefined);
      if (s?.isFile()) out.push({ id: name, file, size: s.size });
    }
  }
  return out;
}

async function existingPaths(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) if (await stat(p).catch(() => undefined)) out.push(p);
  return out;
}

export interface RunOptions {
  trigger?: repo.JobTrigger;
  attempt?: number;
  /** Called once the job row exists (the API answers 202 with its id). */
  onStarted?: (job: { jobId: string; snapshotId: string }) => void;
}

export async function runBackup(rt: BackupRuntime, opts: RunOptions = {}): Promise<BackupRunResult> {
  await refreshTargets(rt); // targets added or changed in the admin UI, whoever starts the run
  return withBackupLock(rt, () => runLocked(rt, opts));
}

async function runLocked(rt: BackupRuntime, opts: RunOptions): Promise<BackupRunResult> {
  const { services, settings } = rt;
  const db = services.db;
  // We hold the lock, so a backup job still marked running was cut off by a crash or restart.
  const interrupted = await repo.failRunningJobs(db, ['backup'], 'interrupted: the process ended during the run');
  if (interrupted.length) log().warn({ jobs: interrupted.map((j) => j.id) }, 'marked interrupted backup runs as failed');
  const snapshotId = newSnapshotId();
  const jobId = await repo.insertJob(db, { kind: 'backup', trigger: opts.trigger ?? 'manual', snapshotId, attempt: opts.attempt });
  const started = Date.now();
  opts.onStarted?.({ jobId, snapshotId });
  rt.metrics.running.set({ kind: 'backup' }, 1);
  const beat = setInterval(() => void repo.heartbeat(db, jobId).catch(() => undefined), 10_000);
  beat.unref();
  let lanes: Lane[] = [];
  try {
    const recipients = await backupRecipients(db, services.seal, settings.recipients);
    const targets = rt.targets();
    if (targets.length === 0) throw new AppError(409, 'backup_no_target', 'no backup target is configured (PRAXISKERN_BACKUP_TARGETS)');
    lanes = targets.map((target) => ({ target, bytes: 0, files: [], blobs: [], blobsUploaded: 0, startedAt: Date.now(), complete: false }));
    const live = () => lanes.filter((l) => !l.error);
    const failLane = (lane: Lane, err: unknown) => {
      if (lane.error) return;
      lane.error = err as Error;
      const { code, message } = reasonOf(err);
      rt.metrics.failures.inc({ kind: 'backup', target: lane.target.name, reason: code });
      log().warn({ target: lane.target.name, code, err: message }, 'backup target failed');
    };
    const each = async (fn: (lane: Lane) => Promise<void>) => {
      await Promise.all(live().map((lane) => fn(lane).catch((err) => failLane(lane, err))));
      if (live().length === 0) throw lanes[0].error!;
    };

    // 1. Clean up what an interrupted run left behind; learn which blobs each target holds.
    rt.onProgress?.({ phase: 'prepare', bytes: 0 });
    const onTarget = new Map<Lane, Set<string>>();
    await each(async (lane) => {
      const listing = await lane.target.list('snapshots/');
      for (const id of snapshotsOnTarget(listing.map((e) => e.path)).incomplete) {
        for (const e of listing.filter((x) => x.path.startsWith(`${snapshotDir(id)}/`))) await lane.target.delete(e.path);
      }
      onTarget.set(lane, new Set((await lane.target.list('blobs/')).map((e) => e.path)));
    });

    // 2. The database: pg_dump at an exported snapshot; row counts and audit anchors in the same one.
    const exported = await repo.openExportedSnapshot(rt.ownerUrl);
    let facts: repo.DatabaseFacts;
    let pgDumpVersion: string;
    try {
      pgDumpVersion = await pgToolVersion(settings.pgBinDir);
      const dump = startPgDump(settings.pgBinDir, rt.ownerUrl, exported.snapshot);
      const factsPromise = repo.readDatabaseFacts(exported.client);
      factsPromise.catch(() => undefined);
      let done = 0;
      const measure = new Measure((n) => rt.onProgress?.({ phase: 'database', bytes: (done += n) }));
      const plain = gate(dump);
      const encrypted = pipeline(dump.stdout, plain, encryptStream(recipients.all), measure);
      encrypted.catch((err) => measure.destroy(err));
      const results = await fanOut(measure, live().map((lane) => (input: Readable) => lane.target.put(dbPath(snapshotId), input)));
      await encrypted;
      await dump.done;
      facts = await factsPromise;
      const entry = { path: dbPath(snapshotId), role: 'database' as const, size: measure.bytes, sha256: measure.digest(), plainBytes: plain.bytes };
      live().forEach((lane, i) => (results[i].ok ? lane.files.push(entry) : failLane(lane, results[i].error)));
      if (live().length === 0) throw lanes[0].error!;
    } finally {
      await exported.close();
    }

    // 3. Blobs: only those a target does not hold yet (content never changes; ids are never reused).
    const blobs = await localBlobs(settings.dataDir);
    await each(async (lane) => {
      const name = lane.target.name;
      const catalog = await repo.targetBlobs(db, name);
      const present = onTarget.get(lane)!;
      let doneItems = 0;
      let queue = 0;
      const work = blobs.map((b) => async () => {
        const known = catalog.get(b.id);
        if (known && present.has(blobPath(b.id))) {
          lane.blobs.push({ id: b.id, size: Number(known.size_bytes), sha256: known.sha256 });
        } else {
          let sealed: { size: number; sha256: string };
          try {
            sealed = await encryptTo(lane.target, blobPath(b.id), createReadStream(b.file), recipients.all);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // erased meanwhile: not part of this snapshot
            throw err;
          }
          const entry = { id: b.id, ...sealed };
          await repo.recordBlob(db, name, entry, snapshotId);
          lane.blobs.push(entry);
          lane.blobsUploaded++;
          lane.bytes += sealed.size;
        }
        rt.onProgress?.({ phase: 'blobs', target: name, bytes: lane.bytes, items: ++doneItems, totalItems: blobs.length });
      });
      // A few uploads in flight hide the round trips of SFTP.
      const workers = Array.from({ length: Math.min(4, work.length) }, async () => {
        while (queue < work.length) await work[queue++]();
      });
      await Promise.all(workers);
      await repo.touchBlobs(db, name, lane.blobs.map((b) => b.id), snapshotId);
      lane.blobs.sort((a, b) => (a.id < b.id ? -1 : 1));
    });

    // 4. The configuration (secrets included): only ever inside the encrypted archive.
    rt.onProgress?.({ phase: 'config', bytes: 0 });
    const configPaths = await existingPaths(settings.configPaths);
    {
      const tar = startTarCreate(configPaths);
      const measure = new Measure();
      const plain = gate(tar);
      const encrypted = pipeline(tar.stdout, plain, encryptStream(recipients.all), measure);
      encrypted.catch((err) => measure.destroy(err));
      const results = await fanOut(measure, live().map((lane) => (input: Readable) => lane.target.put(configPath(snapshotId), input)));
      await encrypted;
      const entry = { path: configPath(snapshotId), role: 'config' as const, size: measure.bytes, sha256: measure.digest(), plainBytes: plain.bytes };
      live().forEach((lane, i) => (results[i].ok ? lane.files.push(entry) : failLane(lane, results[i].error)));
      if (live().length === 0) throw lanes[0].error!;
    }

    // 5. The manifest, last: from now on the snapshot counts.
    rt.onProgress?.({ phase: 'manifest', bytes: 0 });
    const installation = await repo.installationInfo(db);
    const version = await schemaVersion(db);
    const signingKey = backupSigningKey(services.appKey);
    await each(async (lane) => {
      const manifest: Manifest = {
        format: MANIFEST_FORMAT,
        snapshotId,
        installationId: installation?.installationId ?? null,
        jobId,
        target: lane.target.name,
        startedAt: new Date(started).toISOString(),
        completedAt: new Date().toISOString(),
        appVersion: services.version,
        schemaVersion: version,
        postgres: { serverVersion: facts.serverVersion, pgDump: pgDumpVersion },
        recipients: recipients.all,
        signer: signingKey.text,
        files: lane.files,
        blobs: lane.blobs,
        config: { paths: configPaths, appKeyPath: configPaths.includes(settings.appKeyFile) ? settings.appKeyFile : null },
        tables: facts.tables,
        auditAnchors: facts.auditAnchors,
      };
      const sealed = await putSignedManifest(lane.target, manifest, recipients.all, signingKey);
      lane.complete = true;
      lane.bytes += lane.files.reduce((n, f) => n + f.size, 0) + sealed.size;
      await repo.upsertSnapshot(db, {
        target: lane.target.name, snapshot_id: snapshotId, taken_at: new Date(started), job_id: jobId,
        size_bytes: lane.files.reduce((n, f) => n + f.size, 0) + lane.blobs.reduce((n, b) => n + b.size, 0) + sealed.size,
        file_count: lane.files.length + 1, blob_count: lane.blobs.length, manifest_sha256: sealed.sha256,
        app_version: services.version, schema_version: version,
      });
    });

    // 6. Retention on every target that now holds a good snapshot; a failed prune is reported, not fatal.
    for (const lane of lanes.filter((l) => l.complete)) {
      rt.onProgress?.({ phase: 'retention', target: lane.target.name, bytes: 0 });
      lane.prune = await applyRetention(rt, lane.target).catch((err) => {
        rt.metrics.failures.inc({ kind: 'prune', target: lane.target.name, reason: reasonOf(err).code });
        return { error: reasonOf(err).message } as PruneReport;
      });
    }
    return await finish(rt, jobId, snapshotId, started, lanes, undefined);
  } catch (err) {
    if (lanes.length === 0) rt.metrics.failures.inc({ kind: 'backup', target: 'none', reason: reasonOf(err).code });
    // An error outside a lane's own step (e.g. a target's write failing late) fails every lane still
    // open: each is counted once, like a lane that failed in its step.
    for (const lane of lanes.filter((l) => !l.error && !l.complete)) rt.metrics.failures.inc({ kind: 'backup', target: lane.target.name, reason: reasonOf(err).code });
    return await finish(rt, jobId, snapshotId, started, lanes, err);
  } finally {
    clearInterval(beat);
    rt.metrics.running.set({ kind: 'backup' }, 0);
    await closeTargets(lanes.map((l) => l.target));
  }
}

async function finish(rt: BackupRuntime, jobId: string, snapshotId: string, started: number, lanes: Lane[], err: unknown): Promise<BackupRunResult> {
  const now = Date.now();
  const targets: BackupRunResult['targets'] = {};
  for (const lane of lanes) {
    const failure = lane.error ?? (lane.complete ? undefined : err);
    targets[lane.target.name] = {
      ok: lane.complete && !lane.error,
      complete: lane.complete,
      bytes: lane.bytes,
      durationSeconds: (now - lane.startedAt) / 1000,
      blobsUploaded: lane.blobsUploaded,
      blobsReused: lane.blobs.length - lane.blobsUploaded,
      ...(failure ? { error: reasonOf(failure).message, code: reasonOf(failure).code } : {}),
      ...(lane.prune ? { prune: lane.prune } : {}),
    };
  }
  const failed = Object.entries(targets).filter(([, t]) => !t.ok);
  const ok = !err && lanes.length > 0 && failed.length === 0;
  const error = failed.length ? failed.map(([n, t]) => `${n}: ${t.error}`).join('; ') : err ? reasonOf(err).message : undefined;
  await repo.finishJob(rt.services.db, jobId, { ok, error, details: { targets } });
  await auditStandalone(rt.services.db, {
    action: 'backup.run', objectType: 'backup_snapshot', objectId: snapshotId, outcome: ok ? 'success' : 'failure',
    organizationId: null, details: { jobId, targets: Object.fromEntries(Object.entries(targets).map(([n, t]) => [n, t.ok])) },
  }).catch(() => undefined);
  return { ok, jobId, snapshotId, durationSeconds: (now - started) / 1000, targets, ...(error ? { error } : {}) };
}
