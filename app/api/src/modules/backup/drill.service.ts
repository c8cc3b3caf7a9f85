// The weekly restore drill: with the on-server drill key (so only while unsealed), the newest
// snapshot of each target is restored into a scratch database and checked — the manifest's
// signature by this installation's backup signing key, every file's hash (on a local copy, before
// any tool reads it: checked-copy.ts) and decryptability, the configuration archive reads as tar, row counts and audit anchors equal the
// manifest — and the scratch database is emptied again. A backup is proven, not assumed.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { AppError } from '../../core/errors.ts';
import { auditStandalone } from '../audit/audit.service.ts';
import { drillIdentity } from './backup-keys.service.ts';
import { closeTargets, reasonOf, withBackupLock, type BackupRuntime } from './backup-runtime.service.ts';
import * as repo from './backup.repository.ts';
import { decryptInto, fetchChecked, stagedPath } from './checked-copy.ts';
import { blobPath, type Manifest, type ManifestFile } from './manifest.ts';
import { trustedSigners } from './manifest-signature.ts';
import { startPgRestore, startTarList } from './pg-dump.repository.ts';
import { checkFile, pickSnapshot, readManifest } from './verify.service.ts';
import type { BackupTarget } from './targets/index.ts';
import { refreshTargets } from './targets-config.service.ts';

export interface DrillReport {
  target: string;
  ok: boolean;
  snapshotId?: string;
  tables?: number;
  rows?: number;
  blobs?: number;
  seconds: number;
  problems: string[];
}

export interface DrillResult {
  ok: boolean;
  jobId: string;
  reports: DrillReport[];
  error?: string;
}

/** The scratch database's URL: PRAXISKERN_DRILL_DATABASE_URL, or "<database>_drill" beside the real one. */
export function drillDatabaseUrl(rt: BackupRuntime): string {
  if (rt.settings.drillDatabaseUrl) return rt.settings.drillDatabaseUrl;
  const u = new URL(rt.ownerUrl);
  u.pathname = `/${u.pathname.replace(/^\//, '')}_drill`;
  return u.toString();
}

async function ensureScratchDatabase(rt: BackupRuntime, url: string): Promise<void> {
  const name = new URL(url).pathname.replace(/^\//, '');
  const probe = new pg.Client({ connectionString: url });
  try {
    await probe.connect();
    await probe.end();
    return;
  } catch (err) {
    await probe.end().catch(() => undefined);
    if ((err as { code?: string }).code !== '3D000') throw err;
  }
  await repo.withOwnerClient(rt.ownerUrl, async (c) => {
    await c.query(`create database ${pg.escapeIdentifier(name)}`).catch(() => {
      throw new AppError(409, 'backup_no_drill_database', `the drill database "${name}" does not exist and the owner role may not create it: create it owned by the owner role (praxiskern db provision does)`);
    });
  });
}

async function compareFacts(url: string, manifest: Manifest): Promise<string[]> {
  const facts = await repo.withOwnerClient(url, (c) => repo.readDatabaseFacts(c));
  const problems: string[] = [];
  const names = new Set([...Object.keys(manifest.tables), ...Object.keys(facts.tables)]);
  for (const t of names) {
    if (facts.tables[t] !== manifest.tables[t]) problems.push(`table ${t}: ${facts.tables[t] ?? 'missing'} rows restored, manifest says ${manifest.tables[t] ?? 'missing'}`);
  }
  const anchors = new Map(facts.auditAnchors.map((a) => [a.organizationId ?? '-', a.hash]));
  for (const a of manifest.auditAnchors) {
    if (anchors.get(a.organizationId ?? '-') !== a.hash) problems.push(`audit chain ${a.organizationId ?? 'system'}: newest hash differs from the manifest's anchor`);
  }
  return problems;
}

/** One file of the snapshot: copied and checked against the manifest first, only then into pg_restore or tar. */
async function drillFile(rt: BackupRuntime, target: BackupTarget, file: ManifestFile, identity: string, scratch: string, staging: string): Promise<void> {
  const local = await fetchChecked(target, file, stagedPath(staging, file));
  try {
    await decryptInto(local, [identity], file.role === 'database' ? startPgRestore(rt.settings.pgBinDir, scratch) : startTarList());
  } finally {
    await rm(local, { force: true });
  }
}

async function drillTarget(rt: BackupRuntime, target: BackupTarget, identity: string, scratch: string): Promise<DrillReport> {
  const t0 = Date.now();
  const report: DrillReport = { target: target.name, ok: false, seconds: 0, problems: [] };
  try {
    const snapshotId = await pickSnapshot(target);
    report.snapshotId = snapshotId;
    const { manifest } = await readManifest(target, snapshotId, [identity], trustedSigners(rt.services.appKey));
    await repo.withOwnerClient(scratch, (c) => repo.emptyPublicSchema(c));
    const staging = path.join(rt.settings.dataDir, 'drill', snapshotId);
    await mkdir(staging, { recursive: true, mode: 0o700 });
    try {
      for (const file of manifest.files) {
        rt.onProgress?.({ phase: `drill ${file.role}`, target: target.name, bytes: 0, totalBytes: file.size });
        await drillFile(rt, target, file, identity, scratch, staging).catch((err) => {
          report.problems.push(`${file.path}: ${reasonOf(err).message}`);
        });
      }
      if (!report.problems.length) report.problems.push(...(await compareFacts(scratch, manifest)));
    } finally {
      await rm(staging, { recursive: true, force: true });
      await repo.withOwnerClient(scratch, (c) => repo.emptyPublicSchema(c)).catch(() => undefined);
    }
    let done = 0;
    for (const b of manifest.blobs) {
      const problem = await checkFile(target, { path: blobPath(b.id), size: b.size, sha256: b.sha256 }, [identity]);
      if (problem) report.problems.push(`${problem.path}: ${problem.reason}`);
      rt.onProgress?.({ phase: 'drill blobs', target: target.name, bytes: 0, items: ++done, totalItems: manifest.blobs.length });
    }
    report.tables = Object.keys(manifest.tables).length;
    report.rows = Object.values(manifest.tables).reduce((a, b) => a + b, 0);
    report.blobs = manifest.blobs.length;
    report.ok = report.problems.length === 0;
    await repo.recordVerification(rt.services.db, target.name, snapshotId, report.ok ? undefined : report.problems[0]);
  } catch (err) {
    report.problems.push(reasonOf(err).message);
  }
  report.seconds = (Date.now() - t0) / 1000;
  return report;
}

export async function runDrill(rt: BackupRuntime, opts: { trigger?: repo.JobTrigger; onStarted?: (job: { jobId: string }) => void } = {}): Promise<DrillResult> {
  await refreshTargets(rt); // targets added or changed in the admin UI
  return withBackupLock(rt, async () => {
    const db = rt.services.db;
    await repo.failRunningJobs(db, ['drill'], 'interrupted: the process ended during the drill');
    const jobId = await repo.insertJob(db, { kind: 'drill', trigger: opts.trigger ?? 'manual' });
    opts.onStarted?.({ jobId });
    rt.metrics.running.set({ kind: 'drill' }, 1);
    const reports: DrillReport[] = [];
    let error: string | undefined;
    let targets: BackupTarget[] = [];
    try {
      const identity = await drillIdentity(db, rt.services.seal);
      const scratch = drillDatabaseUrl(rt);
      await ensureScratchDatabase(rt, scratch);
      targets = rt.targets();
      if (!targets.length) throw new AppError(409, 'backup_no_target', 'no backup target is configured (PRAXISKERN_BACKUP_TARGETS)');
      for (const target of targets) reports.push(await drillTarget(rt, target, identity, scratch));
    } catch (err) {
      error = reasonOf(err).message;
      rt.metrics.failures.inc({ kind: 'drill', target: 'none', reason: reasonOf(err).code });
    } finally {
      rt.metrics.running.set({ kind: 'drill' }, 0);
      await closeTargets(targets);
    }
    for (const r of reports.filter((x) => !x.ok)) rt.metrics.failures.inc({ kind: 'drill', target: r.target, reason: 'drill_failed' });
    const ok = !error && reports.length > 0 && reports.every((r) => r.ok);
    error ??= reports.filter((r) => !r.ok).map((r) => `${r.target}: ${r.problems[0]}`).join('; ') || undefined;
    await repo.finishJob(db, jobId, { ok, error, details: { reports } });
    // An installation event: the drill's outcome goes to the installation audit chain.
    await auditStandalone(db, {
      action: 'backup.drill', objectType: 'backup_job', objectId: jobId, outcome: ok ? 'success' : 'failure',
      organizationId: null, details: { targets: Object.fromEntries(reports.map((r) => [r.target, r.ok])) },
    }).catch(() => undefined);
    return { ok, jobId, reports, ...(error ? { error } : {}) };
  });
}
