// What every backup operation needs, built once per server (or CLI run): the app services, the
// owner connection string (pg_dump/pg_restore and counts run as the owner role), the settings,
// the targets, metrics and a progress callback.
import { AppError, conflict } from '../../core/errors.ts';
import type { Services } from '../../http/services.ts';
import { loadBackupSettings, openTargets, type BackupSettings } from './backup-config.service.ts';
import { tryBackupLock } from './backup.repository.ts';
import { backupMetrics, type BackupMetrics } from './metrics.ts';
import type { BackupTarget } from './targets/index.ts';

export interface Progress {
  phase: string;
  /** Bytes done in this phase, and the expected total where known. */
  bytes: number;
  totalBytes?: number;
  /** Items (blobs, files) done and expected. */
  items?: number;
  totalItems?: number;
  target?: string;
}

export interface BackupRuntime {
  services: Services;
  ownerUrl: string;
  settings: BackupSettings;
  env: NodeJS.ProcessEnv;
  metrics: BackupMetrics;
  /** Opens the configured targets (or one by name / specification). */
  targets(only?: string): BackupTarget[];
  onProgress?: (p: Progress) => void;
}

export interface RuntimeOptions {
  ownerUrl?: string;
  env?: NodeJS.ProcessEnv;
  /** Tests inject targets that fail in particular ways. */
  targets?: (only?: string) => BackupTarget[];
  onProgress?: (p: Progress) => void;
}

const runtimes = new WeakMap<Services, BackupRuntime>();

/** Creates (or replaces) the backup runtime of a server's services. */
export function registerBackup(services: Services, opts: RuntimeOptions = {}): BackupRuntime {
  const env = opts.env ?? process.env;
  const ownerUrl = opts.ownerUrl ?? services.config.ownerDatabaseUrl ?? services.config.databaseUrl;
  if (!ownerUrl) throw new AppError(500, 'backup_no_owner_url', 'backups need the owner database connection (DATABASE_OWNER_URL)');
  const settings = loadBackupSettings(env, services.config.dataDir);
  const runtime: BackupRuntime = {
    services,
    ownerUrl,
    settings,
    env,
    metrics: backupMetrics(services.metrics.registry, services.db),
    targets: opts.targets ?? ((only) => openTargets(settings, only)),
    onProgress: opts.onProgress,
  };
  runtimes.set(services, runtime);
  return runtime;
}

/** The runtime registered for these services; created from the environment on first use. */
export function backupRuntime(services: Services): BackupRuntime {
  return runtimes.get(services) ?? registerBackup(services);
}

/** Runs fn while holding the installation-wide backup lock (one backup, drill or prune at a time). */
export async function withBackupLock<T>(rt: BackupRuntime, fn: () => Promise<T>): Promise<T> {
  const lock = await tryBackupLock(rt.ownerUrl);
  if (!lock) throw conflict('another backup, drill or verification is running; try again when it has finished');
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

export async function closeTargets(targets: BackupTarget[]): Promise<void> {
  await Promise.all(targets.map((t) => t.close().catch(() => undefined)));
}

/** One line for logs, job rows and the CLI. */
export function reasonOf(err: unknown): { message: string; code: string } {
  if (err instanceof AppError) return { message: err.message.split('\n')[0], code: err.code };
  const e = err as { message?: string; code?: string };
  return { message: (e?.message ?? String(err)).split('\n')[0], code: typeof e?.code === 'string' ? e.code : 'error' };
}
