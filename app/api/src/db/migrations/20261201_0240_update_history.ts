// update_history: one row per update or rollback of this installation, written by the host
// updater through `praxiskern update-record` in the worker (owner role) and shown to installation
// operators (GET /api/v1/installation/updates, the admin UI's Installation page). Installation-wide
// data without patient data: no organization_id. The application role may only read it, and only in
// installation scope (RLS); it may also read the list of applied migrations (status, update gate).
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table update_history (
      id uuid primary key,
      kind text not null check (kind in ('update','rollback')),
      from_version text not null check (length(from_version) between 1 and 64),
      to_version text not null check (length(to_version) between 1 and 64),
      started_at timestamptz not null,
      finished_at timestamptz,
      outcome text not null check (outcome in ('running','succeeded','rolled_back','failed','refused')),
      performed_by text not null check (length(performed_by) between 1 and 128),
      duration_seconds double precision check (duration_seconds >= 0),
      detail text check (length(detail) <= 2000),
      forced boolean not null default false,
      force_reason text check (length(force_reason) <= 500),
      snapshot_restored boolean not null default false,
      phases jsonb not null default '{}' check (jsonb_typeof(phases) = 'object'),
      recorded_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check (not forced or force_reason is not null)
    );
    create index update_history_started on update_history (started_at desc, id);
    alter table update_history enable row level security;
    create policy update_history_installation on update_history for select using (app_installation());
    grant select on update_history to ${APP_ROLE};
    grant select on knex_migrations to ${APP_ROLE};
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    revoke select on knex_migrations from ${APP_ROLE};
    drop table if exists update_history;
  `);
}
