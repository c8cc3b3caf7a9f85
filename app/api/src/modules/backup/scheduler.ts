// node-cron schedules of the backup (PRAXISKERN_BACKUP_SCHEDULE, default nightly 02:30) and the
// restore drill (PRAXISKERN_DRILL_SCHEDULE, default Sunday 04:30), in the server's time zone (TZ).
// At start, a run that a restart cut off (still "running" in the job table) is marked failed and
// retried; a failed scheduled run is retried after PRAXISKERN_BACKUP_RETRY_MINUTES, up to
// PRAXISKERN_BACKUP_MAX_ATTEMPTS attempts in all.
import cron from 'node-cron';
import { runWithContext, systemContext } from '../../core/context.ts';
import { rootLogger } from '../../core/logger.ts';
import type { Services } from '../../http/services.ts';
import { registerBackup, reasonOf, withBackupLock, type BackupRuntime, type RuntimeOptions } from './backup-runtime.service.ts';
import * as repo from './backup.repository.ts';
import { runDrill } from './drill.service.ts';
import { runBackup } from './snapshot.service.ts';
import { refreshTargets } from './targets-config.service.ts';

export interface BackupScheduler {
  runtime: BackupRuntime;
  /** Resolves when the start-up recovery (and its retry, if any) has finished. */
  recovered: Promise<void>;
  stop(): Promise<void>;
}

async function scheduledBackup(rt: BackupRuntime, attempt: number, timers: Set<NodeJS.Timeout>, trigger: repo.JobTrigger): Promise<void> {
  const log = rootLogger.child({ job: 'backup' });
  try {
    await refreshTargets(rt); // targets added or changed in the admin UI
    const result = await runWithContext(systemContext('backup'), () => runBackup(rt, { trigger, attempt }));
    if (result.ok) log.info({ snapshotId: result.snapshotId, seconds: result.durationSeconds }, 'backup finished');
    else throw new Error(result.error);
  } catch (err) {
    const reason = reasonOf(err);
    if (reason.code === 'conflict') return log.info('backup skipped: another backup job is running');
    log.error({ attempt, err: reason.message }, 'backup failed');
    if (attempt < rt.settings.maxAttempts) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        void scheduledBackup(rt, attempt + 1, timers, 'retry');
      }, rt.settings.retryDelayMinutes * 60_000);
      timer.unref();
      timers.add(timer);
    }
  }
}

/** Marks runs that a restart cut off as failed; returns the backup attempt to retry, if any. */
export async function recoverInterruptedJobs(rt: BackupRuntime): Promise<number | undefined> {
  return withBackupLock(rt, async () => {
    const cut = await repo.failRunningJobs(rt.services.db, ['backup', 'drill', 'verify'], 'interrupted: the process ended during the run');
    const backup = cut.filter((j) => j.kind === 'backup').sort((a, b) => b.attempt - a.attempt)[0];
    return backup && backup.attempt < rt.settings.maxAttempts ? backup.attempt + 1 : undefined;
  }).catch(() => undefined); // another instance holds the lock: its jobs are alive
}

export function startBackupScheduler(services: Services, opts: RuntimeOptions = {}): BackupScheduler {
  const rt = registerBackup(services, opts);
  const timers = new Set<NodeJS.Timeout>();
  const log = rootLogger.child({ job: 'backup-scheduler' });
  const backupTask = cron.schedule(rt.settings.schedule, () => scheduledBackup(rt, 1, timers, 'schedule'), { name: 'praxiskern-backup', noOverlap: true });
  const drillTask = cron.schedule(
    rt.settings.drillSchedule,
    async () => {
      const result = await refreshTargets(rt).then(() => runWithContext(systemContext('drill'), () => runDrill(rt, { trigger: 'schedule' }))).catch((err) => ({ ok: false, error: reasonOf(err).message }));
      if (result.ok) log.info('restore drill passed');
      else log.error({ err: result.error }, 'restore drill failed');
    },
    { name: 'praxiskern-drill', noOverlap: true },
  );
  const recovered = (async () => {
    const retry = await recoverInterruptedJobs(rt);
    if (retry !== undefined) {
      log.warn({ attempt: retry }, 'retrying a backup that a restart interrupted');
      await scheduledBackup(rt, retry, timers, 'retry');
    }
  })().catch((err) => log.error({ err: reasonOf(err).message }, 'backup start-up recovery failed'));
  log.info({ backup: rt.settings.schedule, drill: rt.settings.drillSchedule, targets: rt.settings.targets.map((t) => t.name) }, 'backup schedules active');
  return {
    runtime: rt,
    recovered,
    async stop() {
      await backupTask.stop();
      await drillTask.stop();
      for (const t of timers) clearTimeout(t);
    },
  };
}
