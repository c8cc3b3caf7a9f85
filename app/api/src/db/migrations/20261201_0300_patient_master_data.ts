// German practice master data (issue 12, item 4) and the start page (item 6). The new fields
// (title, salutation, insurance, preferred channel, patient number) live in the encrypted master
// data JSON like the rest; only the patient number gets a blind-index term (kind "number"), unique
// per organization, so an exact number finds the patient and a second patient cannot take it.
// patient_numbering is the optional auto-numbering setting (next number per organization).
// The audit index serves "recently opened patients" (the user's own patient.read entries).
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table patient_search drop constraint patient_search_kind_check;
    alter table patient_search add constraint patient_search_kind_check check (kind in ('prefix','name','dob','phone','email','number'));
    create unique index patient_search_number_unique on patient_search (organization_id, token) where kind = 'number';

    create table patient_numbering (
      organization_id uuid primary key references organizations(id),
      enabled boolean not null default false,
      prefix text not null default '' check (prefix ~ '^[A-Z0-9./-]{0,8}$'),
      next_number bigint not null default 1 check (next_number between 1 and 999999999),
      digits int not null default 5 check (digits between 1 and 9),
      updated_at timestamptz not null default now()
    );
    alter table patient_numbering enable row level security;
    alter table patient_numbering force row level security;
    create policy patient_numbering_isolation on patient_numbering
      using (organization_id = app_org()) with check (organization_id = app_org());
    grant select, insert, update on patient_numbering to ${APP_ROLE};

    create index audit_log_actor_recent on audit_log (organization_id, actor_user_id, id desc) where action = 'patient.read';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index if exists audit_log_actor_recent;
    drop table if exists patient_numbering;
    drop index if exists patient_search_number_unique;
    delete from patient_search where kind = 'number';
    alter table patient_search drop constraint patient_search_kind_check;
    alter table patient_search add constraint patient_search_kind_check check (kind in ('prefix','name','dob','phone','email'));
  `);
}
