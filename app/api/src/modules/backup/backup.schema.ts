// Input schemas of the backup routes.
import { z } from 'zod';
import { isoTime, named } from '../../http/response.ts';

const targetName = z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, "-" and "_", starting with a letter (at most 63)');
const targetFields = {
  host: z.string().min(1).max(253).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  username: z.string().min(1).max(128).regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-"').optional(),
  root: z.string().max(1000).optional(),
  hostKeyFingerprint: z.string().max(100).optional(),
  privateKey: z.string().max(16_384).optional(),
  passphrase: z.string().max(1024).optional(),
  path: z.string().min(1).max(1000).optional(),
  provider: z.string().max(200).optional(),
  location: z.string().regex(/^[A-Z]{2}$/, 'a two-letter country code (ISO 3166, e.g. DE)').optional(),
};
export const targetParams = z.strictObject({ name: targetName });
export const targetBody = z.strictObject({ name: targetName, type: z.enum(['sftp', 'local']), ...targetFields });
export const targetEditBody = z.strictObject({ type: z.enum(['sftp', 'local']).optional(), ...targetFields });

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

export const backupTargetConfigView = named('BackupTarget', z.strictObject({
  name: z.string(),
  type: z.enum(['sftp', 'local']),
  /** "configuration": PRAXISKERN_BACKUP_TARGETS (read-only here); "ui": added in the admin UI. */
  source: z.enum(['configuration', 'ui']),
  host: z.string().nullable(),
  port: z.number().int().nullable(),
  username: z.string().nullable(),
  root: z.string().nullable(),
  hostKeyFingerprint: z.string().nullable(),
  path: z.string().nullable(),
  provider: z.string().nullable(),
  location: z.string(),
  /** A private key is stored (sealed); it is never answered. */
  secretStored: z.boolean(),
  createdAt: isoTime.nullable(),
  updatedAt: isoTime.nullable(),
}));
export const backupTargetsView = z.strictObject({ targets: z.array(backupTargetConfigView) });
export const backupTargetAnswer = z.strictObject({ target: backupTargetConfigView });
export const targetTestView = named('BackupTargetTest', z.strictObject({
  ok: z.boolean(),
  code: z.string().optional(),
  message: z.string().optional(),
  /** The steps that succeeded: write, read, delete. */
  steps: z.array(z.string()),
  durationMs: z.number().int(),
}));
