// The table update_history: written by the owner role (the worker's `praxiskern update-record`),
// read by the application role in installation scope (RLS policy update_history_installation).
import type { Db, Tx } from '../../db/connection.ts';
import type { UpdateRecord } from './update-record.ts';

export interface UpdateRow {
  id: string;
  kind: string;
  from_version: string;
  to_version: string;
  started_at: Date;
  finished_at: Date | null;
  outcome: string;
  performed_by: string;
  duration_seconds: number | null;
  detail: string | null;
  forced: boolean;
  force_reason: string | null;
  snapshot_restored: boolean;
  phases: Record<string, number>;
}

const columns = (r: UpdateRecord) => ({
  kind: r.kind, from_version: r.fromVersion, to_version: r.toVersion, started_at: r.startedAt, finished_at: r.finishedAt,
  outcome: r.outcome, performed_by: r.by, duration_seconds: r.durationSeconds, detail: r.detail, forced: r.forced,
  force_reason: r.forceReason, snapshot_restored: r.snapshotRestored, phases: JSON.stringify(r.phases),
});

/** Inserts the row unless its id exists; true when this call created it. */
export async function insertUpdateIfNew(trx: Tx, r: UpdateRecord): Promise<boolean> {
  const rows = await trx('update_history').insert({ id: r.id, ...columns(r) }).onConflict('id').ignore().returning('id');
  return rows.length === 1;
}

/** The stored row, locked until the transaction ends. */
export async function lockUpdate(trx: Tx, id: string): Promise<UpdateRow> {
  return trx('update_history').where({ id }).forUpdate().first();
}

/** Overwrites the mutable fields; the updated row. */
export async function updateUpdate(trx: Tx, r: UpdateRecord): Promise<void> {
  await trx('update_history').where({ id: r.id }).update({ ...columns(r), updated_at: trx.fn.now() });
}

export async function listUpdates(db: Db | Tx, limit: number): Promise<UpdateRow[]> {
  return db('update_history').orderBy([{ column: 'started_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(limit).select('*');
}
