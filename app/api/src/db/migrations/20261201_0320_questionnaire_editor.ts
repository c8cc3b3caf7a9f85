// Questionnaires the practice designs (docs/questionnaires.md): an editable draft per questionnaire
// key (published versions stay in `questionnaires`, insert-only), and the organization's default
// questionnaire for the record's anamnesis. No patient data in either table.
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table questionnaire_drafts (
      organization_id uuid not null references organizations(id),
      key text not null check (key ~ '^[a-z][a-z0-9_]{1,62}$'),
      title text not null check (length(title) between 1 and 200),
      definition jsonb not null,
      revision int not null default 1 check (revision > 0),
      updated_by uuid,
      updated_at timestamptz not null default now(),
      primary key (organization_id, key)
    );
    create table questionnaire_settings (
      organization_id uuid primary key references organizations(id),
      default_key text check (default_key ~ '^[a-z][a-z0-9_]{1,62}$'),
      updated_by uuid,
      updated_at timestamptz not null default now()
    );
  `);
  for (const table of ['questionnaire_drafts', 'questionnaire_settings']) {
    await knex.raw(`
      alter table ${table} enable row level security;
      alter table ${table} force row level security;
      create policy ${table}_isolation on ${table}
        using (organization_id = app_org()) with check (organization_id = app_org());
    `);
  }
  await knex.raw(`
    grant select, insert, update, delete on questionnaire_drafts to ${APP_ROLE};
    grant select, insert, update on questionnaire_settings to ${APP_ROLE};
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop table if exists questionnaire_settings, questionnaire_drafts`);
}
