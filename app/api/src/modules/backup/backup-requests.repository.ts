// The queue of backups and drills requested through the API (table backup_requests). The API role
// inserts and reads; the worker claims, links and finishes requests on its owner connection.
import pg from 'pg';
import type { Db } from '../../db/connection.ts';

export type RequestKind = 'backup' | 'drill';
export const REQUEST_CHANNEL = 'praxiskern_backup_requests';

export interface RequestRow {
  id: string;
  kind: RequestKind;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  requested_by: string | null;
  requested_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  job_id: string | null;
  error: string | null;
}

/** Inserts a queued request; undefined when another request is still open (unique partial index). */
export async function insertRequest(db: Db, kind: RequestKind, requestedBy: string | null): Promise<string | undefined> {
  try {
    const [row] = await db('backup_requests').insert({ kind, requested_by: requestedBy }).returning('id');
    return row.id;
  } catch (err) {
    if ((err as { code?: string; constraint?: string }).constraint === 'backup_requests_one_open') return undefined;
    throw err;
  }
}

export async function getRequest(db: Db, id: string): Promise<RequestRow | undefined> {
  return db('backup_requests').where({ id }).first('*');
}

export async function openRequests(db: Db): Promise<RequestRow[]> {
  return db('backup_requests').whereIn('status', ['queued', 'running']).orderBy('requested_at').select('*');
}

/** Claims the oldest queued request (marks it running). */
export async function claimNext(owner: Db): Promise<RequestRow | undefined> {
  const { rows } = await owner.raw(
    `update backup_requests set status = 'running', started_at = now()
      where id = (select id from backup_requests where status = 'queued' order by requested_at limit 1 for update skip locked)
      returning *`,
  );
  return rows[0];
}

export async function linkJob(owner: Db, id: string, jobId: string): Promise<void> {
  await owner('backup_requests').where({ id }).update({ job_id: jobId });
}

export async function finishRequest(owner: Db, id: string, outcome: { ok: boolean; error?: string }): Promise<void> {
  await owner('backup_requests')
    .where({ id })
    .update({ status: outcome.ok ? 'succeeded' : 'failed', finished_at: owner.fn.now(), error: outcome.error?.slice(0, 2000) ?? null });
}

/** Puts a claimed request back (the backup lock was busy, e.g. a scheduled run): the next poll retries. */
export async function requeue(owner: Db, id: string): Promise<void> {
  await owner('backup_requests').where({ id, status: 'running' }).whereNull('job_id').update({ status: 'queued', started_at: null });
}

/** At worker start: a request still "running" was cut off by a restart. */
export async function failRunningRequests(owner: Db, reason: string): Promise<number> {
  return owner('backup_requests').where({ status: 'running' }).update({ status: 'failed', finished_at: owner.fn.now(), error: reason });
}

/** A dedicated connection that LISTENs on the request channel; calls onNotify for each insert. */
export async function listenForRequests(url: string, onNotify: () => void): Promise<{ close(): Promise<void> }> {
  const client = new pg.Client({ connectionString: url, application_name: 'praxiskern-worker-listen' });
  client.on('error', () => undefined);
  client.on('notification', () => onNotify());
  await client.connect();
  await client.query(`listen ${REQUEST_CHANNEL}`);
  return { close: () => client.end().catch(() => undefined) };
}
