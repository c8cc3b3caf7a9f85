// The live register of external services (docs/external-services.md) and backup targets
// configured in the admin UI (docs/backup-format.md "Targets configured in the admin UI").
//
// external_service_events: every enable/disable transition of an external service, per
// organization (organization_id) or for the whole installation (organization_id null: hosting,
// backup targets). The register's "since" is the time of the newest transition; the table is
// append-only for the application role. Installation rows are readable by every organization (an
// organization admin sees where the installation's backups go) but written in installation scope only.
//
// backup_targets: installation-wide; the secret (SSH private key and its passphrase) is sealed with
// a key derived from the installation's application key and bound to the row id; readable and
// writable in installation scope only (RLS).
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table external_service_events (
      id bigserial primary key,
      organization_id uuid references organizations(id),
      service_key text not null check (service_key ~ '^[a-z0-9][a-z0-9:._-]{0,127}$'),
      enabled boolean not null,
      at timestamptz not null default now(),
      -- the entry as described at that moment (name, purpose, recipient, …; never patient data):
      -- a service that is no longer configured is still listed, as switched off since then
      entry jsonb not null check (jsonb_typeof(entry) = 'object' and length(entry::text) <= 20000)
    );
    create index external_service_events_latest on external_service_events (organization_id, service_key, at desc, id desc);
    alter table external_service_events enable row level security;
    alter table external_service_events force row level security;
    create policy external_service_events_read on external_service_events for select
      using (organization_id = app_org() or organization_id is null);
    create policy external_service_events_write on external_service_events for insert
      with check (organization_id = app_org() or (organization_id is null and app_installation()));
    grant select, insert on external_service_events to ${APP_ROLE};
    grant usage on sequence external_service_events_id_seq to ${APP_ROLE};

    create table backup_targets (
      id uuid primary key default gen_random_uuid(),
      name text not null unique check (name ~ '^[a-z][a-z0-9_-]{0,62}$'),
      type text not null check (type in ('sftp', 'local')),
      host text check (length(host) between 1 and 253),
      port integer check (port between 1 and 65535),
      username text check (length(username) between 1 and 128),
      root text check (length(root) <= 1000),
      host_key_fingerprint text check (host_key_fingerprint ~ '^SHA256:[A-Za-z0-9+/]{43}$'),
      path text check (length(path) between 1 and 1000),
      provider text check (length(provider) <= 200),
      location text not null default 'DE' check (location ~ '^[A-Z]{2}$'),
      secret bytea,
      created_by uuid references users(id) on delete set null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check (type <> 'sftp' or (host is not null and port is not null and username is not null and host_key_fingerprint is not null and secret is not null)),
      check (type <> 'local' or path is not null)
    );
    alter table backup_targets enable row level security;
    alter table backup_targets force row level security;
    create policy backup_targets_installation on backup_targets using (app_installation()) with check (app_installation());
    grant select, insert, update, delete on backup_targets to ${APP_ROLE};
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists backup_targets, external_service_events');
}
