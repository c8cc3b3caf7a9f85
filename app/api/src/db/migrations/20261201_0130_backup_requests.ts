// Backups and restore drills requested through the API run in the worker, which alone holds the
// owner role's credentials: the API inserts a request, the worker (LISTEN praxiskern_backup_requests
// plus a short poll) claims it, runs it and records the outcome. The API role may insert a request
// and read the queue, nothing else; at most one request is open (queued or running) at a time.
// installation_checks: findings of the worker's host checks (e.g. recovery-kit files still on the
// server), written by the worker as owner and read by the API for status, banner and metrics.
// Installation-wide tables without patient data: no organization_id, so no RLS policy.
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table backup_requests (
      id uuid primary key default gen_random_uuid(),
      kind text not null check (kind in ('backup','drill')),
      status text not null default 'queued' check (status in ('queued','running','succeeded','failed')),
      requested_by uuid,
      requested_at timestamptz not null default now(),
      started_at timestamptz,
      finished_at timestamptz,
      job_id uuid,
      error text check (length(error) <= 2000)
    );
    create unique index backup_requests_one_open on backup_requests ((true)) where status in ('queued','running');
    create index backup_requests_requested on backup_requests (requested_at desc);

    create function backup_requests_notify() returns trigger language plpgsql as $$
    begin
      perform pg_notify('praxiskern_backup_requests', new.id::text);
      return new;
    end $$;
    create trigger backup_requests_notify after insert on backup_requests
      for each row execute function backup_requests_notify();

    create table installation_checks (
      name text primary key check (length(name) between 1 and 64),
      findings jsonb not null default '[]',
      checked_at timestamptz not null default now()
    );

    grant select on backup_requests, installation_checks to ${APP_ROLE};
    grant insert (kind, requested_by) on backup_requests to ${APP_ROLE};
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop table if exists installation_checks;
    drop table if exists backup_requests;
    drop function if exists backup_requests_notify();
  `);
}
