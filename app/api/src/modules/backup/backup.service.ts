// What the admin UI and API see of backups: status per target, snapshots, jobs, the last drill;
// queuing a backup or drill for the worker, which alone holds the owner role (the answer carries the job id); the recovery kit.
import { authorize } from '../../core/authorize.ts';
import { AppError } from '../../core/errors.ts';
import { currentContext } from '../../core/context.ts';
import type { Services } from '../../http/services.ts';
import { withScope } from '../../db/connection.ts';
import { backupRuntime } from './backup-runtime.service.ts';
import { queueRun } from './backup-requests.service.ts';
import { openRequests } from './backup-requests.repository.ts';
import { recoveryKitFindings } from '../installation/host-checks.service.ts';
import * as repo from './backup.repository.ts';
import { createRecoveryKit, type KitOptions } from './kit.service.ts';
import { refreshTargets } from './targets-config.service.ts';

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
  await refreshTargets(rt);
  const db = services.db;
  const [snapshots, keys, lastBackup, lastSuccess, lastDrill, running, queued, kitFindings] = await Promise.all([
    repo.listSnapshots(db), repo.activeKeys(db), repo.lastJob(db, 'backup'), repo.lastJob(db, 'backup', 'succeeded'), repo.lastJob(db, 'drill'),
    db('backup_jobs').where({ status: 'running' }).select('*'), openRequests(db), recoveryKitFindings(db),
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
    /** Requests the worker has not finished yet (it runs backups and drills asked for here). */
    requests: queued.map((r) => ({ id: r.id, kind: r.kind, status: r.status, jobId: r.job_id, requestedAt: iso(r.requested_at) })),
    /** Secrets of the install still on the server (null: no worker has checked). */
    recoveryKitFilesOnServer: kitFindings.files,
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

/** Queues a backup for the worker (the API process holds no owner credentials); 202 with the job id. */
export async function startBackup(services: Services) {
  authorize('backup.run');
  const rt = backupRuntime(services);
  await refreshTargets(rt);
  if (rt.settings.targets.length === 0) throw new AppError(409, 'backup_no_target', 'no backup target is configured: add one on the backup page (or in PRAXISKERN_BACKUP_TARGETS)');
  return queueRun(services, 'backup');
}

/** Queues a restore drill for the worker; 202 with the job id. */
export async function startDrill(services: Services) {
  authorize('backup.run');
  return queueRun(services, 'drill');
}

export async function recoveryKit(services: Services, opts: KitOptions) {
  authorize('backup.recovery_kit');
  const actor = currentContext()?.actor;
  const org = actor?.organizationId;
  const [row, user]: [{ name: string } | undefined, { locale: 'de' | 'en' } | undefined] = org
    ? await withScope(services.db, { organizationId: org }, (trx) => Promise.all([
      trx('organizations').where({ id: org }).first('name'),
      actor?.userId ? trx('users').where({ id: actor.userId }).first('locale') : undefined,
    ]))
    : [undefined, undefined];
  // The printed kit speaks the language the person chose in the UI (stored with the user).
  return createRecoveryKit(services, { ...opts, organization: row?.name, locale: user?.locale });
}
