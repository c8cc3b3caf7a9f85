// Verification of a snapshot on a target: the manifest decrypts and parses; every file and blob it
// names has the recorded size and SHA-256 and decrypts to the end (age authenticates every chunk,
// so a truncated or altered file cannot pass), and the manifest carries a signature by a key this
// installation trusts (manifest-signature.ts), so a planted snapshot cannot pass either.
// Used by `praxiskern backup verify`, the drill and restore.
import type { KeyObject } from 'node:crypto';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError, notFound } from '../../core/errors.ts';
import { decryptStream } from './age/index.ts';
import { closeTargets, reasonOf, withBackupLock, type BackupRuntime } from './backup-runtime.service.ts';
import { discard, fromBuffer, Measure, readAll } from './backup-stream.service.ts';
import * as repo from './backup.repository.ts';
import { blobPath, manifestPath, parseManifest, signaturePath, snapshotsOnTarget, type Manifest } from './manifest.ts';
import { signedBy, trustedSigners } from './manifest-signature.ts';
import type { BackupTarget } from './targets/index.ts';
import { refreshTargets } from './targets-config.service.ts';

export interface VerifyProblem {
  path: string;
  reason: string;
  code: string;
}

export interface VerifyReport {
  ok: boolean;
  target: string;
  snapshotId: string;
  files: number;
  bytes: number;
  problems: VerifyProblem[];
  manifest?: Manifest;
}

export const snapshotBroken = (message: string) => new AppError(422, 'backup_snapshot_broken', message);
export const snapshotNotSigned = (message: string) => new AppError(422, 'backup_snapshot_not_signed', message);

/** Ids of the complete snapshots on a target, oldest first. */
export async function completeSnapshots(target: BackupTarget): Promise<string[]> {
  return snapshotsOnTarget((await target.list('snapshots/')).map((e) => e.path)).complete;
}

export async function pickSnapshot(target: BackupTarget, snapshotId?: string): Promise<string> {
  const complete = await completeSnapshots(target);
  if (snapshotId) {
    if (!complete.includes(snapshotId)) throw notFound(`Snapshot ${snapshotId} on target "${target.name}" (complete snapshots: ${complete.slice(-5).join(', ') || 'none'})`);
    return snapshotId;
  }
  if (!complete.length) throw notFound(`A complete snapshot on target "${target.name}"`);
  return complete[complete.length - 1];
}

async function readOptional(target: BackupTarget, relPath: string): Promise<Buffer | undefined> {
  try {
    return await readAll(await target.get(relPath));
  } catch (err) {
    if ((err as { code?: string }).code === 'target_missing') return undefined;
    throw err;
  }
}

/**
 * Reads a manifest, checks its signature against the trusted signing keys (before decrypting
 * anything), decrypts and parses it; returns it with the SHA-256 of its encrypted bytes.
 */
export async function readManifest(
  target: BackupTarget, snapshotId: string, identities: string[], signers: KeyObject[],
): Promise<{ manifest: Manifest; sha256: string }> {
  const where = manifestPath(snapshotId);
  const sealed = await readAll(await target.get(where));
  const signature = await readOptional(target, signaturePath(snapshotId));
  if (!signature) {
    throw snapshotNotSigned(`${where}: the snapshot carries no signature (${signaturePath(snapshotId)} is missing): refused, it was not made by this installation`);
  }
  if (!signedBy(sealed, signature, signers)) {
    throw snapshotNotSigned(`${where}: the signature does not match this installation's backup signing key: refused as planted or altered (on a new server pass --signer from the recovery kit)`);
  }
  const measure = new Measure();
  const parts: Buffer[] = [];
  await pipeline(fromBuffer(sealed), measure, decryptStream(identities), async function collect(source: AsyncIterable<Buffer>) {
    for await (const chunk of source) parts.push(chunk);
  });
  const manifest = parseManifest(Buffer.concat(parts), `${target.name}/${where}`);
  if (manifest.snapshotId !== snapshotId) throw snapshotBroken(`${where} belongs to snapshot ${manifest.snapshotId}`);
  return { manifest, sha256: measure.digest() };
}

/**
 * Streams one encrypted file through hash and decryption into `consume` (default: discard).
 * Returns a problem, or undefined if the file is good.
 */
export async function checkFile(
  target: BackupTarget,
  entry: { path: string; size: number; sha256: string },
  identities: string[],
  consume: () => Writable = () => discard(),
  onBytes?: (n: number) => void,
): Promise<VerifyProblem | undefined> {
  const measure = new Measure(onBytes);
  try {
    await pipeline(await target.get(entry.path), measure, decryptStream(identities), consume());
  } catch (err) {
    const { message, code } = reasonOf(err);
    return { path: entry.path, reason: message, code };
  }
  if (measure.bytes !== entry.size) return { path: entry.path, reason: `size ${measure.bytes} differs from the manifest's ${entry.size}`, code: 'backup_size_mismatch' };
  if (measure.digest() !== entry.sha256) return { path: entry.path, reason: 'SHA-256 differs from the manifest (file altered)', code: 'backup_hash_mismatch' };
  return undefined;
}

/** Checks a whole snapshot; `consumers` lets the drill send the database file into pg_restore. */
export async function verifySnapshotOn(
  rt: BackupRuntime,
  target: BackupTarget,
  snapshotId: string,
  identities: string[],
  consumers: { database?: () => Writable; config?: () => Writable } = {},
  signers: string[] = [],
): Promise<VerifyReport> {
  const report: VerifyReport = { ok: false, target: target.name, snapshotId, files: 0, bytes: 0, problems: [] };
  let manifest: Manifest;
  try {
    manifest = (await readManifest(target, snapshotId, identities, trustedSigners(rt.services.appKey, signers))).manifest;
  } catch (err) {
    const { message, code } = reasonOf(err);
    report.problems.push({ path: manifestPath(snapshotId), reason: message, code });
    return report;
  }
  report.manifest = manifest;
  const entries = [
    ...manifest.files.map((f) => ({ ...f, consume: f.role === 'database' ? consumers.database : consumers.config })),
    ...manifest.blobs.map((b) => ({ path: blobPath(b.id), size: b.size, sha256: b.sha256, consume: undefined })),
  ];
  const total = entries.reduce((n, e) => n + e.size, 0);
  let done = 0;
  for (const e of entries) {
    const problem = await checkFile(target, e, identities, e.consume, (n) => rt.onProgress?.({ phase: 'verify', target: target.name, bytes: (done += n), totalBytes: total }));
    report.files++;
    report.bytes += e.size;
    if (problem) report.problems.push(problem);
  }
  report.ok = report.problems.length === 0;
  return report;
}

/** `praxiskern backup verify`: one snapshot (default: the newest) on each target, recorded in the catalog. */
export async function verifyBackups(
  rt: BackupRuntime, opts: { identities: string[]; signers?: string[]; target?: string; snapshotId?: string; trigger?: repo.JobTrigger },
): Promise<VerifyReport[]> {
  trustedSigners(rt.services.appKey, opts.signers); // a malformed --signer is a 400 before any work
  await refreshTargets(rt); // targets added or changed in the admin UI
  return withBackupLock(rt, async () => {
    const db = rt.services.db;
    const jobId = await repo.insertJob(db, { kind: 'verify', trigger: opts.trigger ?? 'manual', snapshotId: opts.snapshotId });
    const targets = rt.targets(opts.target);
    const reports: VerifyReport[] = [];
    try {
      for (const target of targets) {
        let report: VerifyReport;
        try {
          report = await verifySnapshotOn(rt, target, await pickSnapshot(target, opts.snapshotId), opts.identities, {}, opts.signers);
        } catch (err) {
          const { message, code } = reasonOf(err);
          report = { ok: false, target: target.name, snapshotId: opts.snapshotId ?? '', files: 0, bytes: 0, problems: [{ path: '', reason: message, code }] };
        }
        if (report.snapshotId) await repo.recordVerification(db, target.name, report.snapshotId, report.ok ? undefined : report.problems[0].reason);
        if (!report.ok) rt.metrics.failures.inc({ kind: 'verify', target: target.name, reason: report.problems[0].code });
        reports.push(report);
      }
    } finally {
      await closeTargets(targets);
      const bad = reports.filter((r) => !r.ok);
      await repo.finishJob(db, jobId, {
        ok: bad.length === 0 && reports.length > 0,
        error: bad.length ? bad.map((r) => `${r.target}: ${r.problems[0].path ? `${r.problems[0].path}: ` : ''}${r.problems[0].reason}`).join('; ') : undefined,
        details: { reports: reports.map(({ manifest: _m, ...r }) => r) },
      });
    }
    return reports;
  });
}
