// Backups: the durable job table (a run interrupted by a restart is found and retried), the
// catalog of snapshots and uploaded blobs per target (retention and blob pruning), and the backup
// keys (offline recovery recipients; the on-server drill identity wrapped by the master key).
// Installation-wide tables without patient data: no organization_id, so no RLS policy.
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table backup_jobs (
      id uuid primary key default gen_random_uuid(),
      kind text not null check (kind in ('backup','drill','verify','restore')),
      status text not null check (status in ('running','succeeded','failed')),
      trigger text not null check (trigger in ('schedule','manual','pre-update','retry','cli')),
      snapshot_id text check (snapshot_id ~ '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$'),
      attempt int not null default 1,
      started_at timestamptz not null default now(),
      heartbeat_at timestamptz not null default now(),
      finished_at timestamptz,
      error text check (length(error) <= 2000),
      details jsonb not null default '{}'
    );
    create index backup_jobs_kind_started on backup_jobs (kind, started_at desc);
    create index backup_jobs_running on backup_jobs (status) where status = 'running';

    -- One row per snapshot and target, written once its manifest is on the target.
    create table backup_snapshots (
      target text not null check (length(target) between 1 and 64),
      snapshot_id text not null check (snapshot_id ~ '^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$'),
      taken_at timestamptz not null,
      job_id uuid,
      size_bytes bigint not null,
      file_count int not null,
      blob_count int not null,
      manifest_sha256 text not null check (manifest_sha256 ~ '^[0-9a-f]{64}$'),
      app_version text not null,
      schema_version text not null,
      verified_at timestamptz,
      verify_error text check (length(verify_error) <= 2000),
      primary key (target, snapshot_id)
    );

    -- Blobs are immutable and their ids never reused, so the snapshots that hold a blob form one
    -- interval [first_snapshot, last_snapshot] in snapshot-id (= time) order.
    create table backup_blobs (
      target text not null,
      blob_id text not null check (blob_id ~ '^[A-Za-z0-9_-]{20,64}$'),
      size_bytes bigint not null,
      sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
      first_snapshot text not null,
      last_snapshot text not null,
      primary key (target, blob_id)
    );

    create table backup_keys (
      recipient text primary key check (recipient ~ '^age1[02-9ac-hj-np-z]{58}$'),
      kind text not null check (kind in ('recovery','drill')),
      wrapped_identity bytea,
      label text check (length(label) <= 200),
      created_at timestamptz not null default now(),
      retired_at timestamptz,
      check ((kind = 'drill') = (wrapped_identity is not null))
    );
    create unique index backup_keys_one_drill on backup_keys (kind) where kind = 'drill' and retired_at is null;

    grant select, insert, update, delete on backup_jobs, backup_snapshots, backup_blobs, backup_keys to ${APP_ROLE};
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists backup_keys, backup_blobs, backup_snapshots, backup_jobs');
}
