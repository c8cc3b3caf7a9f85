// After an erasure (or an anonymization, or an erased override reason) the destroyed wrapped key
// and the deleted ciphertexts still sit in dead row versions until VACUUM removes them. The
// application role cannot VACUUM (only a table's owner can, and VACUUM cannot run inside a
// function, so no SECURITY DEFINER helper is possible): the worker, which holds the owner
// connection, calls vacuumAfterErasure on a schedule. docs/patients.md ("What remains on disk")
// says what VACUUM does and does not remove.
import cron from 'node-cron';
import type { Db } from '../../db/connection.ts';
import { createDb } from '../../db/connection.ts';
import { log } from '../../core/context.ts';

/** Tables that hold a patient's key or ciphertext (their TOAST tables are vacuumed with them). */
export const ERASURE_TABLES = ['data_keys', 'patients', 'patient_versions', 'patient_search', 'record_entries', 'consents', 'documents', 'document_events'] as const;

/**
 * Keys destroyed within this window trigger a pass. Repeating the pass for a while covers dead
 * versions that a long transaction (a running backup dump) still held during an earlier pass.
 */
export const PENDING_WINDOW_HOURS = 24;

export interface VacuumResult {
  destroyedKeys: number;
  vacuumed: string[];
}

export async function vacuumAfterErasure(owner: Db, windowHours = PENDING_WINDOW_HOURS): Promise<VacuumResult> {
  const [{ n }] = await owner('data_keys').whereNotNull('destroyed_at').andWhereRaw(`destroyed_at > now() - make_interval(hours => ?)`, [windowHours]).count({ n: '*' });
  const destroyedKeys = Number(n);
  if (!destroyedKeys) return { destroyedKeys, vacuumed: [] };
  const conn = (await owner.client.acquireConnection()) as { query(sql: string): Promise<unknown> };
  const vacuumed: string[] = [];
  try {
    // Never queue behind a long reader (a backup dump): every request would queue behind us.
    await conn.query(`set lock_timeout = '2s'`);
    for (const t of ERASURE_TABLES) {
      try {
        // data_keys is small and holds the secret that matters (a wrapped key): rewritten whole,
        // so no dead version survives even in a page's free space. The others: plain VACUUM.
        await conn.query(t === 'data_keys' ? 'vacuum (full) data_keys' : `vacuum ${t}`);
        vacuumed.push(t);
      } catch (err) {
        if ((err as { code?: string }).code !== '55P03') throw err; // lock_not_available: next pass
      }
    }
  } finally {
    await conn.query('reset lock_timeout').catch(() => undefined);
    await owner.client.releaseConnection(conn);
  }
  log().info({ destroyedKeys, vacuumed: vacuumed.length, of: ERASURE_TABLES.length }, 'vacuumed after erasure');
  return { destroyedKeys, vacuumed };
}

/** In the worker: PRAXISKERN_ERASURE_VACUUM_SCHEDULE (default hourly at minute 7). */
export function startErasureVacuumScheduler(ownerUrl: string, env: NodeJS.ProcessEnv = process.env): { stop(): Promise<void> } {
  const expression = env.PRAXISKERN_ERASURE_VACUUM_SCHEDULE || '7 * * * *';
  if (!cron.validate(expression)) throw new Error(`PRAXISKERN_ERASURE_VACUUM_SCHEDULE is not a cron expression: "${expression}"`);
  const owner = createDb(ownerUrl, 1);
  const task = cron.schedule(expression, () => void vacuumAfterErasure(owner).catch((err) => log().error({ err }, 'vacuum after erasure failed')), { noOverlap: true });
  return {
    async stop() {
      await task.stop();
      await owner.destroy();
    },
  };
}
