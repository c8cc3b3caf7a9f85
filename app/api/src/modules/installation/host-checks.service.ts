// Secrets a human must keep (practice passphrase, first admin's password, init.json with TOTP
// secret, recovery codes and the backup identity) leave the server at install. The worker, which
// has the recovery-kit directory mounted read-only (PRAXISKERN_RECOVERY_KIT_DIR), lists any file
// that remains there at start and every PRAXISKERN_HOST_CHECK_SECONDS; `praxiskern status`, the
// admin UI's backup page and the alert PraxiskernRecoveryKitOnServer report them. Only file names
// are read and stored, never their content.
import { Gauge, type Registry } from 'prom-client';
import { rootLogger } from '../../core/logger.ts';
import type { Db } from '../../db/connection.ts';
import { filesIn, readCheck, writeCheck } from './host-checks.repository.ts';

export const RECOVERY_KIT_CHECK = 'recovery_kit_files';

export interface RecoveryKitFindings {
  /** File names still in the recovery-kit directory on the server; null when no worker has checked. */
  files: string[] | null;
  checkedAt: string | null;
}

/** What the last check found (read by the API process with the application role). */
export async function recoveryKitFindings(db: Db): Promise<RecoveryKitFindings> {
  const row = await readCheck(db, RECOVERY_KIT_CHECK);
  return { files: row ? row.findings : null, checkedAt: row ? new Date(row.checkedAt).toISOString() : null };
}

/** Runs the check once: lists the directory, stores the names, sets the gauge. */
export async function checkRecoveryKit(owner: Db, dir: string, gauge?: Gauge): Promise<string[]> {
  const files = filesIn(dir);
  await writeCheck(owner, RECOVERY_KIT_CHECK, files);
  gauge?.set(files.length);
  if (files.length) rootLogger.warn({ files }, 'recovery-kit files are still on the server: move them offline and shred them');
  return files;
}

export function startHostChecks(owner: Db, registry: Registry, opts: { recoveryKitDir: string; intervalSeconds: number }): { stop(): void } {
  const gauge = new Gauge({
    name: 'praxiskern_recovery_kit_files_on_server',
    help: 'Files (passphrase, admin password, init.json) still in the recovery-kit directory on the server',
    registers: [registry],
  });
  const run = () => checkRecoveryKit(owner, opts.recoveryKitDir, gauge).catch((err) => rootLogger.error({ err: (err as Error).message }, 'recovery-kit check failed'));
  void run();
  const timer = setInterval(run, opts.intervalSeconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
