// The update command's safety net: a fresh snapshot on every target before anything changes.
// It throws (and the update must not proceed) unless the snapshot is complete everywhere.
import { AppError } from '../../core/errors.ts';
import type { Services } from '../../http/services.ts';
import { backupRuntime } from './backup-runtime.service.ts';
import { runBackup, type BackupRunResult } from './snapshot.service.ts';

export async function takePreUpdateSnapshot(services: Services): Promise<BackupRunResult> {
  const result = await runBackup(backupRuntime(services), { trigger: 'pre-update' });
  if (!result.ok) {
    throw new AppError(409, 'pre_update_snapshot_failed', `the pre-update snapshot failed, so the update does not proceed: ${result.error ?? 'unknown reason'}`, {
      jobId: result.jobId,
      snapshotId: result.snapshotId,
    });
  }
  return result;
}
