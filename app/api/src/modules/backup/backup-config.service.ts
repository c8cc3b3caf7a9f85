// Backup settings from the environment (documented with defaults in docs/backup-format.md and
// compose/.env.example), and the target list PRAXISKERN_BACKUP_TARGETS turned into targets.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import cron from 'node-cron';
import { validation } from '../../core/errors.ts';
import { parseRecipient } from './age/index.ts';
import { DEFAULT_RETENTION_POLICY, type RetentionPolicy } from './retention.ts';
import { createTarget, DEFAULT_SFTP_PORT, type BackupTarget, type TargetConfig } from './targets/index.ts';

export interface BackupSettings {
  /** Target specifications, e.g. "local:/srv/backup" or "sftp://u1@box:23/praxiskern?hostkey=SHA256:…&key=/path". */
  targets: TargetConfig[];
  /** Offline recovery recipients from PRAXISKERN_BACKUP_RECIPIENTS (the recovery kit adds its own). */
  recipients: string[];
  schedule: string;
  drillSchedule: string;
  retention: RetentionPolicy;
  /** Directory of pg_dump / pg_restore / psql. */
  pgBinDir: string | undefined;
  /** Database the restore drill may wipe; default: "<name>_drill" on the same server, owner credentials. */
  drillDatabaseUrl: string | undefined;
  /** Files and directories that make up the appliance configuration archive. */
  configPaths: string[];
  /** The installation's application key file (part of the configuration archive). */
  appKeyFile: string;
  dataDir: string;
  /** Extra attempts after a failed or interrupted scheduled run. */
  maxAttempts: number;
  retryDelayMinutes: number;
}

const list = (raw: string | undefined) => (raw ?? '').split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);

function int(env: NodeJS.ProcessEnv, name: string, def: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw validation(name, `must be a whole number ≥ 0, got "${raw}"`);
  return n;
}

function schedule(env: NodeJS.ProcessEnv, name: string, def: string): string {
  const value = env[name]?.trim() || def;
  if (!cron.validate(value)) throw validation(name, `"${value}" is not a cron expression (minute hour day month weekday)`);
  return value;
}

export function defaultPgBinDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.PRAXISKERN_PG_BIN_DIR) return env.PRAXISKERN_PG_BIN_DIR;
  return existsSync('/usr/lib/postgresql/17/bin/pg_dump') ? '/usr/lib/postgresql/17/bin' : undefined;
}

/** Parses one entry of PRAXISKERN_BACKUP_TARGETS; an optional "name=" prefix names the target. */
export function parseTargetSpec(spec: string, field = 'PRAXISKERN_BACKUP_TARGETS'): TargetConfig {
  const named = /^([a-z][a-z0-9_-]{0,62})=(.+)$/.exec(spec);
  const text = named ? named[2] : spec;
  if (text.startsWith('local:')) {
    const dir = text.slice('local:'.length);
    if (!path.isAbsolute(dir)) throw validation(field, `local target "${spec}" needs an absolute path (local:/srv/backup)`);
    return { type: 'local', name: named?.[1] ?? 'local', path: path.resolve(dir) };
  }
  if (text.startsWith('sftp://')) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw validation(field, `"${spec}" is not a valid sftp:// URL`);
    }
    const keyFile = url.searchParams.get('key');
    if (!url.username) throw validation(field, `sftp target "${url.host}" needs a user (sftp://user@host:23/dir)`);
    if (!keyFile) throw validation(field, `sftp target "${url.host}" needs key=/path/to/private-key`);
    let privateKey: Buffer;
    try {
      privateKey = readFileSync(keyFile);
    } catch (err) {
      throw validation(field, `cannot read the SSH key ${keyFile} of sftp target "${url.host}" (${(err as NodeJS.ErrnoException).code})`);
    }
    const root = decodeURIComponent(url.pathname.replace(/^\//, '')) || undefined;
    return {
      type: 'sftp',
      name: named?.[1] ?? url.hostname.split('.')[0],
      host: url.hostname,
      port: url.port ? Number(url.port) : DEFAULT_SFTP_PORT,
      username: decodeURIComponent(url.username),
      privateKey,
      hostKeyFingerprint: url.searchParams.get('hostkey') ?? undefined,
      root,
      readyTimeoutMs: Number(url.searchParams.get('timeout') ?? 20_000),
    };
  }
  throw validation(field, `"${spec}" must start with local:/ or sftp://`);
}

export function loadBackupSettings(env: NodeJS.ProcessEnv, dataDir: string): BackupSettings {
  const targets = list(env.PRAXISKERN_BACKUP_TARGETS).map((s) => parseTargetSpec(s));
  const names = new Set<string>();
  for (const t of targets) {
    if (names.has(t.name)) throw validation('PRAXISKERN_BACKUP_TARGETS', `two targets are named "${t.name}"; prefix one with name=`);
    names.add(t.name);
  }
  const recipients = list(env.PRAXISKERN_BACKUP_RECIPIENTS);
  for (const r of recipients) parseRecipient(r);
  const appKeyFile = env.PRAXISKERN_APP_KEY_FILE || path.join(dataDir, 'secrets', 'app.key');
  return {
    targets,
    recipients,
    schedule: schedule(env, 'PRAXISKERN_BACKUP_SCHEDULE', '30 2 * * *'),
    drillSchedule: schedule(env, 'PRAXISKERN_DRILL_SCHEDULE', '30 4 * * 0'),
    retention: {
      daily: int(env, 'PRAXISKERN_BACKUP_KEEP_DAILY', DEFAULT_RETENTION_POLICY.daily),
      weekly: int(env, 'PRAXISKERN_BACKUP_KEEP_WEEKLY', DEFAULT_RETENTION_POLICY.weekly),
      monthly: int(env, 'PRAXISKERN_BACKUP_KEEP_MONTHLY', DEFAULT_RETENTION_POLICY.monthly),
    },
    pgBinDir: defaultPgBinDir(env),
    drillDatabaseUrl: env.PRAXISKERN_DRILL_DATABASE_URL || undefined,
    configPaths: [...new Set([path.join(dataDir, 'secrets'), appKeyFile, path.join(dataDir, 'ledger'), ...list(env.PRAXISKERN_BACKUP_CONFIG_PATHS)])],
    appKeyFile,
    dataDir,
    maxAttempts: Math.max(1, int(env, 'PRAXISKERN_BACKUP_MAX_ATTEMPTS', 3)),
    retryDelayMinutes: int(env, 'PRAXISKERN_BACKUP_RETRY_MINUTES', 30),
  };
}

export function openTargets(settings: BackupSettings, only?: string): BackupTarget[] {
  const chosen = only ? settings.targets.filter((t) => t.name === only) : settings.targets;
  if (only && chosen.length === 0) {
    // Not a configured name: a specification given on the command line (restore onto a new server).
    return [createTarget(parseTargetSpec(only, '--target'))];
  }
  return chosen.map(createTarget);
}

/** Where the app key lives now (the restore writes the backed-up key there). */
export const appKeyPath = (env: NodeJS.ProcessEnv, dataDir: string) => env.PRAXISKERN_APP_KEY_FILE || path.join(dataDir, 'secrets', 'app.key');
