// Database access of the backup module: job table, snapshot/blob catalog, backup keys, and the
// owner-side reads that run inside the dump's exported snapshot (row counts, audit anchors).
import pg from 'pg';
import type { Db } from '../../db/connection.ts';

export type JobKind = 'backup' | 'drill' | 'verify' | 'restore';
export type JobTrigger = 'schedule' | 'manual' | 'pre-update' | 'retry' | 'cli';

export interface JobRow {
  id: string;
  kind: JobKind;
  status: 'running' | 'succeeded' | 'failed';
  trigger: JobTrigger;
  snapshot_id: string | null;
  attempt: number;
  started_at: Date;
  heartbeat_at: Date;
  finished_at: Date | null;
  error: string | null;
  details: Record<string, unknown>;
}

export async function insertJob(db: Db, job: { kind: JobKind; trigger: JobTrigger; snapshotId?: string; attempt?: number }): Promise<string> {
  const [row] = await db('backup_jobs')
    .insert({ kind: job.kind, status: 'running', trigger: job.trigger, snapshot_id: job.snapshotId ?? null, attempt: job.attempt ?? 1 })
    .returning('id');
  return row.id;
}

export async function heartbeat(db: Db, id: string, details?: Record<string, unknown>): Promise<void> {
  await db('backup_jobs').where({ id }).update({ heartbeat_at: db.fn.now(), ...(details ? { details: JSON.stringify(details) } : {}) });
}

export async function finishJob(db: Db, id: string, outcome: { ok: boolean; error?: string; details: Record<string, unknown> }): Promise<void> {
  await db('backup_jobs')
    .where({ id })
    .update({
      status: outcome.ok ? 'succeeded' : 'failed',
      finished_at: db.fn.now(),
      heartbeat_at: db.fn.now(),
      error: outcome.error?.slice(0, 2000) ?? null,
      details: JSON.stringify(outcome.details),
    });
}

/** Marks running jobs failed (called while holding the backup lock: nobody else can be running them). */
export async function failRunningJobs(db: Db, kinds: JobKind[], reason: string): Promise<JobRow[]> {
  return db('backup_jobs')
    .whereIn('kind', kinds)
    .andWhere({ status: 'running' })
    .update({ status: 'failed', finished_at: db.fn.now(), error: reason })
    .returning('*');
}

export async function recentJobs(db: Db, kind: JobKind | undefined, limit: number): Promise<JobRow[]> {
  const q = db('backup_jobs').select('*').orderBy('started_at', 'desc').limit(limit);
  if (kind) q.where({ kind });
  return q;
}

export async function lastJob(db: Db, kind: JobKind, status?: 'succeeded' | 'failed'): Promise<JobRow | undefined> {
  const q = db('backup_jobs').where({ kind }).whereNot({ status: 'running' }).orderBy('started_at', 'desc').first('*');
  if (status) q.where({ status });
  return q;
}

export interface SnapshotRow {
  target: string;
  snapshot_id: string;
  taken_at: Date;
  job_id: string | null;
  size_bytes: string | number;
  file_count: number;
  blob_count: number;
  manifest_sha256: string;
  app_version: string;
  schema_version: string;
  verified_at: Date | null;
  verify_error: string | null;
}

export async function upsertSnapshot(db: Db, row: Omit<SnapshotRow, 'verified_at' | 'verify_error'>): Promise<void> {
  await db('backup_snapshots').insert(row).onConflict(['target', 'snapshot_id']).merge();
}

export async function listSnapshots(db: Db, target?: string): Promise<SnapshotRow[]> {
  const q = db('backup_snapshots').select('*').orderBy('snapshot_id', 'desc');
  if (target) q.where({ target });
  return q;
}

export async function deleteSnapshotRow(db: Db, target: string, snapshotId: string): Promise<void> {
  await db('backup_snapshots').where({ target, snapshot_id: snapshotId }).delete();
}

export async function recordVerification(db: Db, target: string, snapshotId: string, error: string | undefined): Promise<void> {
  await db('backup_snapshots')
    .where({ target, snapshot_id: snapshotId })
    .update({ verified_at: db.fn.now(), verify_error: error?.slice(0, 2000) ?? null });
}

export interface BlobRow {
  blob_id: string;
  size_bytes: string | number;
  sha256: string;
}

export async function targetBlobs(db: Db, target: string): Promise<Map<string, BlobRow>> {
  const rows: BlobRow[] = await db('backup_blobs').where({ target }).select('blob_id', 'size_bytes', 'sha256');
  return new Map(rows.map((r) => [r.blob_id, r]));
}

export async function recordBlob(db: Db, target: string, blob: { id: string; size: number; sha256: string }, snapshotId: string): Promise<void> {
  await db('backup_blobs')
    .insert({ target, blob_id: blob.id, size_bytes: blob.size, sha256: blob.sha256, first_snapshot: snapshotId, last_snapshot: snapshotId })
    .onConflict(['target', 'blob_id'])
    .merge(['size_bytes', 'sha256', 'last_snapshot']);
}

/** Extends the interval of blobs that the snapshot holds (ids in batches). */
export async function touchBlobs(db: Db, target: string, ids: string[], snapshotId: string): Promise<void> {
  for (let i = 0; i < ids.length; i += 5000) {
    await db('backup_blobs')
      .where({ target })
      .whereIn('blob_id', ids.slice(i, i + 5000))
      .update({ last_snapshot: db.raw('greatest(last_snapshot, ?)', [snapshotId]), first_snapshot: db.raw('least(first_snapshot, ?)', [snapshotId]) });
  }
}

/** Blobs of a target that no snapshot in `retained` holds. */
export async function unreferencedBlobs(db: Db, target: string, retained: string[]): Promise<string[]> {
  const { rows } = await db.raw(
    `select b.blob_id from backup_blobs b where b.target = ?
       and not exists (select 1 from unnest(?::text[]) r(id) where r.id between b.first_snapshot and b.last_snapshot)`,
    [target, retained],
  );
  return rows.map((r: { blob_id: string }) => r.blob_id);
}

export async function forgetBlobs(db: Db, target: string, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 5000) await db('backup_blobs').where({ target }).whereIn('blob_id', ids.slice(i, i + 5000)).delete();
}

export interface KeyRow {
  recipient: string;
  kind: 'recovery' | 'drill';
  wrapped_identity: Buffer | null;
  label: string | null;
  created_at: Date;
}

export async function activeKeys(db: Db): Promise<KeyRow[]> {
  return db('backup_keys').whereNull('retired_at').select('recipient', 'kind', 'wrapped_identity', 'label', 'created_at').orderBy('created_at');
}

export async function insertKey(db: Db, row: { recipient: string; kind: 'recovery' | 'drill'; wrappedIdentity?: Buffer; label?: string }): Promise<void> {
  await db('backup_keys').insert({ recipient: row.recipient, kind: row.kind, wrapped_identity: row.wrappedIdentity ?? null, label: row.label ?? null });
}

export async function retireRecoveryKeys(db: Db): Promise<void> {
  await db('backup_keys').where({ kind: 'recovery' }).whereNull('retired_at').update({ retired_at: db.fn.now() });
}

export async function installationInfo(db: Db): Promise<{ installationId: string; initialized: boolean } | undefined> {
  const row = await db('installation').where({ id: 1 }).first('installation_id', 'initialized_at');
  return row ? { installationId: row.installation_id, initialized: Boolean(row.initialized_at) } : undefined;
}

// ---- owner-side reads in the dump's snapshot -------------------------------------------------

export interface DatabaseFacts {
  tables: Record<string, number>;
  auditAnchors: { organizationId: string | null; seq: number; hash: string }[];
  serverVersion: string;
  databaseBytes: number;
}

/** Counts every table's rows and reads the newest audit hash per chain (in the caller's transaction). */
export async function readDatabaseFacts(client: pg.Client | pg.PoolClient): Promise<DatabaseFacts> {
  const { rows: tables } = await client.query(
    `select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r','p') and not c.relispartition order by c.relname`,
  );
  const counts: Record<string, number> = {};
  for (const { relname } of tables) {
    const { rows } = await client.query(`select count(*)::bigint as n from public.${pg.escapeIdentifier(relname)}`);
    counts[relname] = Number(rows[0].n);
  }
  const hasAudit = tables.some((t) => t.relname === 'audit_log');
  const anchors = hasAudit
    ? (
        await client.query(
          `select distinct on (organization_id) organization_id, seq, hash from audit_log where seq is not null order by organization_id, seq desc`,
        )
      ).rows.map((r) => ({ organizationId: r.organization_id as string | null, seq: Number(r.seq), hash: r.hash as string }))
    : [];
  const { rows: v } = await client.query(`select current_setting('server_version') as v, pg_database_size(current_database())::bigint as size`);
  return { tables: counts, auditAnchors: anchors, serverVersion: v[0].v, databaseBytes: Number(v[0].size) };
}

/** A repeatable-read transaction whose snapshot pg_dump shares (--snapshot): counts match the dump. */
export async function openExportedSnapshot(ownerUrl: string): Promise<{ client: pg.Client; snapshot: string; close(): Promise<void> }> {
  const client = new pg.Client({ connectionString: ownerUrl, application_name: 'praxiskern-backup' });
  await client.connect();
  try {
    await client.query('begin isolation level repeatable read read only');
    const { rows } = await client.query('select pg_export_snapshot() as s');
    return {
      client,
      snapshot: rows[0].s,
      async close() {
        await client.query('commit').catch(() => undefined);
        await client.end().catch(() => undefined);
      },
    };
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
}

/**
 * SQL that empties the public schema (keeps the schema, its owner and grants) so a restore starts
 * clean. Extensions installed into it (btree_gist, for the appointments' exclusion constraints) go
 * first: their functions and operator classes cannot be dropped one by one, and the dump creates
 * them again.
 */
export const EMPTY_PUBLIC_SCHEMA_SQL = `
    do $$ declare r record; begin
      for r in select e.extname from pg_extension e join pg_namespace n on n.oid = e.extnamespace where n.nspname = 'public' loop
        execute format('drop extension if exists %I cascade', r.extname);
      end loop;
      for r in select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
                where n.nspname = 'public' and c.relkind in ('r','p','v','m','f') and not c.relispartition loop
        execute format('drop %s if exists public.%I cascade',
          case r.relkind when 'v' then 'view' when 'm' then 'materialized view' when 'f' then 'foreign table' else 'table' end, r.relname);
      end loop;
      for r in select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
                where n.nspname = 'public' and c.relkind = 'S' loop
        execute format('drop sequence if exists public.%I cascade', r.relname);
      end loop;
      for r in select p.oid::regprocedure as sig, p.prokind from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                where n.nspname = 'public' loop
        execute format('drop %s if exists %s cascade', case r.prokind when 'p' then 'procedure' when 'a' then 'aggregate' else 'function' end, r.sig);
      end loop;
      for r in select t.typname from pg_type t join pg_namespace n on n.oid = t.typnamespace
                where n.nspname = 'public' and t.typtype in ('e','d','c') and not exists (select 1 from pg_class c where c.reltype = t.oid) loop
        execute format('drop type if exists public.%I cascade', r.typname);
      end loop;
    end $$;
`;

/** Empties the public schema (the drill's scratch database). */
export async function emptyPublicSchema(client: pg.Client): Promise<void> {
  await client.query(EMPTY_PUBLIC_SCHEMA_SQL);
}

export async function withOwnerClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'praxiskern-backup' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Session-level advisory lock on its own connection: released when the process dies. */
export async function tryBackupLock(url: string): Promise<{ release(): Promise<void> } | undefined> {
  const client = new pg.Client({ connectionString: url, application_name: 'praxiskern-backup-lock' });
  await client.connect();
  client.on('error', () => undefined);
  const { rows } = await client.query('select pg_try_advisory_lock(7062, 1) as ok');
  if (!rows[0].ok) {
    await client.end();
    return undefined;
  }
  return {
    async release() {
      await client.query('select pg_advisory_unlock(7062, 1)').catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}
