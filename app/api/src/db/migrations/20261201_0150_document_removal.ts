// Issue 8, item 7: medical documents and photos are retained like the record (§ 630f BGB). A user
// "removes" a document by hiding it; the row and the encrypted blob stay, and every removal and
// restoration is kept as an event (who, when, why; the reason encrypted with the patient's key).
// The API role loses DELETE on documents: only the Art. 17 hard delete (cascade from patients,
// run as the table owner) and the owner-side anonymize function remove document rows.
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table documents
      add column removed_at timestamptz,
      add column removed_by uuid;

    create table document_events (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      patient_id uuid not null references patients(id) on delete cascade,
      document_id uuid not null references documents(id) on delete cascade,
      action text not null check (action in ('removed', 'restored')),
      reason bytea,
      actor_user_id uuid,
      at timestamptz not null default clock_timestamp()
    );
    create index document_events_document on document_events (document_id, at);
    create index document_events_patient on document_events (patient_id);

    alter table document_events enable row level security;
    alter table document_events force row level security;
    create policy document_events_isolation on document_events
      using (organization_id = app_org()) with check (organization_id = app_org());

    revoke delete, update on documents from ${APP_ROLE};
    grant update (removed_at, removed_by) on documents to ${APP_ROLE};
    grant select, insert on document_events to ${APP_ROLE};
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop table if exists document_events;
    alter table documents drop column if exists removed_at, drop column if exists removed_by;
    grant update, delete on documents to ${APP_ROLE};
  `);
}
