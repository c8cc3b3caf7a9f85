// Patient records: master data, blind search index, questionnaires, append-only record entries,
// consent log, documents, erasure ledger. Identifying and health content lives only in bytea
// columns encrypted with the patient's data key; plaintext columns are ids, flags and times.
// Append-only tables get no UPDATE/DELETE grant: only the cascade from a hard delete (which runs
// as the table owner) or the owner-side anonymize function removes their rows.
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';
const TENANT_TABLES = ['patients', 'patient_versions', 'patient_search', 'questionnaires', 'record_entries', 'consents', 'documents', 'erasure_ledger'];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table patients (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      data bytea,
      version int not null default 1,
      restricted_at timestamptz,
      restriction_reason bytea,
      objected_at timestamptz,
      last_treatment_on date,
      anonymized_at timestamptz,
      created_by uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check ((data is null) = (anonymized_at is not null))
    );
    create index patients_org_created on patients (organization_id, created_at, id);
    create index patients_org_updated on patients (organization_id, updated_at, id);
    create index patients_org_treatment on patients (organization_id, last_treatment_on, id);

    create table patient_versions (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      patient_id uuid not null references patients(id) on delete cascade,
      version int not null,
      data bytea not null,
      reason bytea,
      changed_by uuid,
      changed_at timestamptz not null default now(),
      unique (patient_id, version)
    );

    create table patient_search (
      organization_id uuid not null references organizations(id),
      patient_id uuid not null references patients(id) on delete cascade,
      kind text not null check (kind in ('prefix','name','dob','phone','email')),
      token bytea not null check (length(token) = 16),
      primary key (organization_id, kind, token, patient_id)
    );
    create index patient_search_patient on patient_search (patient_id);

    create table questionnaires (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      key text not null check (key ~ '^[a-z][a-z0-9_]{1,62}$'),
      version int not null check (version > 0),
      title text not null check (length(title) between 1 and 200),
      definition jsonb not null,
      created_by uuid,
      created_at timestamptz not null default now(),
      unique (organization_id, key, version)
    );

    create table record_entries (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      patient_id uuid not null references patients(id) on delete cascade,
      kind text not null check (kind in ('anamnesis','diagnosis','treatment','plan')),
      questionnaire_id uuid references questionnaires(id),
      supersedes_id uuid unique references record_entries(id) on delete cascade,
      data bytea not null,
      created_by uuid,
      created_at timestamptz not null default clock_timestamp()
    );
    create index record_entries_patient on record_entries (patient_id, kind, created_at);

    create table consents (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      patient_id uuid not null references patients(id) on delete cascade,
      purpose text not null check (purpose ~ '^[a-z_]{2,40}$'),
      action text not null check (action in ('granted','withdrawn')),
      text_version text not null check (length(text_version) between 1 and 50),
      channel text not null check (channel in ('paper','in_person','web','email','whatsapp','phone')),
      note bytea,
      recorded_by uuid,
      recorded_at timestamptz not null default clock_timestamp()
    );
    create index consents_patient on consents (patient_id, purpose, recorded_at);

    create table documents (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      patient_id uuid not null references patients(id) on delete cascade,
      category text not null check (category in ('front','side','donor_area','close_up','document','other')),
      content_type text not null check (content_type in ('image/jpeg','image/png','image/webp','application/pdf')),
      size_bytes int not null check (size_bytes > 0),
      blob_id text not null unique check (blob_id ~ '^[A-Za-z0-9_-]{20,64}$'),
      filename bytea,
      note bytea,
      metadata_removed text[] not null default '{}',
      created_by uuid,
      created_at timestamptz not null default now()
    );
    create index documents_patient on documents (patient_id, created_at);

    -- Ids and time only: re-applied after any restore so an old backup never brings a patient back.
    create table erasure_ledger (
      id bigserial primary key,
      organization_id uuid not null,
      patient_id uuid not null unique,
      erased_at timestamptz not null default now()
    );
  `);

  for (const table of TENANT_TABLES) {
    await knex.raw(`
      alter table ${table} enable row level security;
      alter table ${table} force row level security;
      create policy ${table}_isolation on ${table}
        using (organization_id = app_org()) with check (organization_id = app_org());
    `);
  }

  // Anonymization keeps a stub (ids, dates) and removes everything else; it runs as the owner
  // because the append-only tables give the API role no DELETE, and checks the tenant itself.
  await knex.raw(`
    create or replace function anonymize_patient(p_patient uuid) returns boolean language plpgsql
      security definer set search_path = public, pg_temp as $$
    begin
      if app_org() is null then raise exception 'no organization in scope' using errcode = '42501'; end if;
      perform 1 from patients where id = p_patient and organization_id = app_org() for update;
      if not found then return false; end if;
      delete from record_entries where patient_id = p_patient;
      delete from consents where patient_id = p_patient;
      delete from documents where patient_id = p_patient;
      delete from patient_versions where patient_id = p_patient;
      delete from patient_search where patient_id = p_patient;
      update patients set data = null, restriction_reason = null, anonymized_at = now(), updated_at = now()
        where id = p_patient;
      return true;
    end $$;
    revoke all on function anonymize_patient(uuid) from public;

    grant select, insert, update, delete on patients, patient_search, documents to ${APP_ROLE};
    grant select, insert on patient_versions, record_entries, consents, erasure_ledger to ${APP_ROLE};
    grant select, insert on questionnaires to ${APP_ROLE};
    grant usage on sequence erasure_ledger_id_seq to ${APP_ROLE};
    grant execute on function anonymize_patient(uuid) to ${APP_ROLE};
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop function if exists anonymize_patient(uuid);
    drop table if exists erasure_ledger, documents, consents, record_entries, questionnaires, patient_search, patient_versions, patients;
  `);
}
