// What the admin UI and API see of backups: status per target, snapshots, jobs, the last drill;
// starting a backup or drill (in the background: the answer carries the job id); the recovery kit.
import { authorize } from '../../core/authorize.ts';
import { AppError } from '../../core/errors.ts';
import { currentContext, log, runWithContext, systemContext } from '../../core/context.ts';
import type { Services } from '../../http/services.ts';
import { withScope } from '../../db/connection.ts';
import { backupRuntime, reasonOf } from './backup-runtime.service.ts';
import * as repo from './backup.repository.ts';
import { runDrill } from './drill.service.ts';
import { createRecoveryKit, type KitOptions } from './kit.service.ts';
import { runBackup } from './snapshot.service.ts';

const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : null);

function job(j: repo.JobRow | undefined) {
  if (!j) return null;
  return {
    id: j.id, kind: j.kind, status: j.status, trigger: j.trigger, snapshotId: j.snapshot_id, attempt: j.attempt,
    startedAt: iso(j.started_at), finishedAt: iso(j.finished_at), error: j.error, details: j.details,
  };
}

function snapshot(s: repo.SnapshotRow) {
  return {
    target: s.target, id: s.snapshot_id, takenAt: iso(s.taken_at), sizeBytes: Number(s.size_bytes), files: s.file_count, blobs: s.blob_count,
    appVersion: s.app_version, schemaVersion: s.schema_version, verifiedAt: iso(s.verified_at), verifyError: s.verify_error,
  };
}

export async function backupStatus(services: Services) {
  authorize('backup.read');
  const rt = backupRuntime(services);
  const db = services.db;
  const [snapshots, keys, lastBackup, lastSuccess, lastDrill, running] = await Promise.all([
    repo.listSnapshots(db), repo.activeKeys(db), repo.lastJob(db, 'backup'), repo.lastJob(db, 'backup', 'succeeded'), repo.lastJob(db, 'drill'),
    db('backup_jobs').where({ status: 'running' }).select('*'),
  ]);
  const targets = rt.settings.targets.map((t) => {
    const own = snapshots.filter((s) => s.target === t.name);
    const outcome = (lastBackup?.details?.targets as Record<string, { ok: boolean; error?: string }> | undefined)?.[t.name];
    return {
      name: t.name, type: t.type, where: t.type === 'local' ? t.path : `${t.username}@${t.host}:${t.port}/${t.root ?? ''}`,
      snapshots: own.length, newest: own[0] ? snapshot(own[0]) : null, lastRunOk: outcome?.ok ?? null, lastError: outcome?.error ?? null,
    };
  });
  return {
    schedule: rt.settings.schedule,
    drillSchedule: rt.settings.drillSchedule,
    retention: rt.settings.retention,
    recipients: {
      offline: [...new Set([...rt.settings.recipients, ...keys.filter((k) => k.kind === 'recovery').map((k) => k.recipient)])].length,
      recoveryKit: keys.some((k) => k.kind === 'recovery'),
      drillKey: keys.some((k) => k.kind === 'drill'),
    },
    targets,
    running: running.map(job),
    lastBackup: job(lastBackup),
    lastSuccessfulBackup: job(lastSuccess),
    lastDrill: job(lastDrill),
  };
}

export async function listBackupSnapshots(services: Services, target?: string) {
  authorize('backup.read');
  return { snapshots: (await repo.listSnapshots(services.db, target)).map(snapshot) };
}

export async function listBackupJobs(services: Services, kind: repo.JobKind | undefined, limit: number) {
  authorize('backup.read');
  return { jobs: (await repo.recentJobs(services.db, kind, limit)).map(job) };
}

/** Starts work in the background; resolves with the job id once the job row exists (or rejects at once, e.g. 409 busy). */
function inBackground<J>(name: string, work: (onStarted: (j: J) => void) => Promise<{ ok: boolean; error?: string }>): Promise<J> {
  return new Promise((resolve, reject) => {
    let started = false;
    runWithContext(systemContext(name, currentContext()?.actor), () =>
      work((j) => {
        started = true;
        resolve(j);
      }).then(
        (r) => (r.ok ? log().info(`${name} finished`) : log().error({ err: r.error }, `${name} failed`)),
        (err) => (started ? log().error({ err: reasonOf(err).message }, `${name} failed`) : reject(err)),
      ),
    );
  });
}

export async function startBackup(services: Services) {
  authorize('backup.run');
  const rt = backupRuntime(services);
  if (rt.settings.targets.length === 0) throw new AppError(409, 'backup_no_target', 'no backup target is configured (PRAXISKERN_BACKUP_TARGETS)');
  return inBackground('backup', (onStarted) => runBackup(rt, { trigger: 'manual', onStarted }));
}

export async function startDrill(services: Services) {
  authorize('backup.run');
  const rt = backupRuntime(services);
  return inBackground('drill', (onStarted) => runDrill(rt, { trigger: 'manual', onStarted }));
}

export async function recoveryKit(services: Services, opts: KitOptions) {
  authorize('backup.recovery_kit');
  const org = currentContext()?.actor?.organizationId;
  const row: { name: string } | undefined = org
    ? await withScope(services.db, { organizationId: org }, (trx) => trx('organizations').where({ id: org }).first('name'))
    : undefined;
  const name = row?.name;
  return createRecoveryKit(services, { ...opts, organization: name });
}
