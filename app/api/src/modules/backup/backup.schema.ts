// Input schemas of the backup routes.
import { z } from 'zod';
import { isoTime, named } from '../../http/response.ts';

export const snapshotsQuery = z.strictObject({ target: z.string().max(64).optional() });

export const jobsQuery = z.strictObject({
  kind: z.enum(['backup', 'drill', 'verify', 'restore']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(20),
});

export const recoveryKitBody = z.strictObject({
  shares: z.strictObject({ threshold: z.number().int().min(2).max(255), count: z.number().int().min(2).max(255) })
    .refine((s) => s.count >= s.threshold, { message: 'count must be at least threshold', path: ['count'] })
    .optional(),
  replace: z.boolean().default(false),
});

// ---- answers (http/response.ts) ----
export const JOB_KINDS = ['backup', 'drill', 'verify', 'restore'] as const;

export const backupJobView = named('BackupJob', z.strictObject({
  id: z.string(),
  kind: z.enum(JOB_KINDS),
  status: z.enum(['running', 'succeeded', 'failed']),
  trigger: z.string(),
  snapshotId: z.string().nullable(),
  attempt: z.number().int(),
  startedAt: isoTime.nullable(),
  finishedAt: isoTime.nullable(),
  error: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
}));

export const backupSnapshotView = named('BackupSnapshot', z.strictObject({
  target: z.string(),
  id: z.string(),
  takenAt: isoTime.nullable(),
  sizeBytes: z.number(),
  files: z.number().int(),
  blobs: z.number().int(),
  appVersion: z.string(),
  schemaVersion: z.string(),
  verifiedAt: isoTime.nullable(),
  verifyError: z.string().nullable(),
}));

export const backupTargetView = named('BackupTargetStatus', z.strictObject({
  name: z.string(),
  type: z.string(),
  where: z.string(),
  snapshots: z.number().int(),
  newest: backupSnapshotView.nullable(),
  /** Outcome of this target in the last backup run; null before the first run. */
  lastRunOk: z.boolean().nullable(),
  lastError: z.string().nullable(),
}));

const REQUEST_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;

export const backupRequestView = named('BackupRequest', z.strictObject({
  id: z.string(),
  kind: z.enum(['backup', 'drill']),
  status: z.enum(REQUEST_STATUSES),
  jobId: z.string().nullable(),
  requestedAt: isoTime.nullable(),
}));

export const backupStatusView = named('BackupStatus', z.strictObject({
  schedule: z.string(),
  drillSchedule: z.string(),
  retention: z.strictObject({ daily: z.number().int(), weekly: z.number().int(), monthly: z.number().int() }),
  recipients: z.strictObject({ offline: z.number().int(), recoveryKit: z.boolean(), drillKey: z.boolean() }),
  targets: z.array(backupTargetView),
  running: z.array(backupJobView),
  lastBackup: backupJobView.nullable(),
  lastSuccessfulBackup: backupJobView.nullable(),
  lastDrill: backupJobView.nullable(),
  /** Backups and drills asked for through the API that the worker has not finished yet. */
  requests: z.array(backupRequestView),
  /** Recovery-kit files still on the server (the worker's last check); null: not checked. */
  recoveryKitFilesOnServer: z.array(z.string()).nullable(),
}));

export const backupSnapshotsView = z.strictObject({ snapshots: z.array(backupSnapshotView) });
export const backupJobsView = z.strictObject({ jobs: z.array(backupJobView) });
/** 202 of POST /backup/runs and /backup/drills: the worker runs the job; jobId is null while it waits in the queue. */
export const backupStartedView = named('QueuedBackupRun', z.strictObject({ requestId: z.string(), jobId: z.string().nullable(), status: z.enum(REQUEST_STATUSES) }));
