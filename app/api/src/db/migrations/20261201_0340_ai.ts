// Issue 13: AI-prepared patient files with Anthropic Claude (docs/ai.md). Per organization the
// settings (off by default; the API key is a file on the server, never in the database); per request
// the disclosure log (task, categories of data sent, SHA-256 of the exact payload, model, tokens,
// outcome) that the patient's export lists; drafts encrypted with the patient's data key until a
// doctor has decided on each item, then kept for the audit period and deleted (purge_after).
// Accepted items become ordinary record entries of the new kind "note", marked AI-assisted.
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table ai_settings (
      organization_id uuid primary key references organizations(id),
      enabled boolean not null default false,
      model text not null check (length(model) between 1 and 100),
      base_url text not null check (length(base_url) between 1 and 500),
      api_key_file text check (length(api_key_file) between 1 and 500),
      timeout_ms int not null check (timeout_ms between 1000 and 600000),
      max_retries int not null check (max_retries between 0 and 5),
      daily_token_budget int not null check (daily_token_budget between 1000 and 100000000),
      enabled_at timestamptz,
      updated_by uuid,
      updated_at timestamptz not null default now()
    );

    create table ai_requests (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      patient_id uuid references patients(id) on delete cascade,
      task text not null check (task in ('prepare', 'triage')),
      categories text[] not null default '{}',
      payload_sha256 text check (payload_sha256 ~ '^[0-9a-f]{64}$'),
      payload_bytes int,
      model text not null,
      tokens_in int not null default 0,
      tokens_out int not null default 0,
      outcome text not null check (outcome in ('success', 'failure', 'malformed', 'blocked_leak')),
      failure_reason text,
      created_by uuid,
      created_at timestamptz not null default now()
    );
    create index ai_requests_budget on ai_requests (organization_id, created_at);
    create index ai_requests_patient on ai_requests (patient_id, created_at);

    create table ai_drafts (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      patient_id uuid not null references patients(id) on delete cascade,
      request_id uuid not null references ai_requests(id) on delete cascade,
      model text not null,
      status text not null default 'open' check (status in ('open', 'reviewed')),
      -- items, their decisions and the sources used, encrypted with the patient's data key
      data bytea not null,
      created_by uuid,
      created_at timestamptz not null default now(),
      reviewed_by uuid,
      reviewed_at timestamptz,
      purge_after timestamptz not null
    );
    create index ai_drafts_patient on ai_drafts (patient_id, created_at);
    create index ai_drafts_purge on ai_drafts (purge_after);

    do $$ declare t text; begin
      foreach t in array array['ai_settings', 'ai_requests', 'ai_drafts'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy %I on %I using (organization_id = app_org()) with check (organization_id = app_org())', t || '_isolation', t);
      end loop;
    end $$;

    -- An anonymized record (retention) keeps no AI draft and no disclosure tied to it.
    create function patients_anonymized_drop_ai() returns trigger language plpgsql security definer
      set search_path = public, pg_temp as $$
        begin delete from ai_drafts where patient_id = new.id; update ai_requests set patient_id = null where patient_id = new.id; return null; end
      $$;
    create trigger patients_anonymized_drop_ai after update of anonymized_at on patients
      for each row when (new.anonymized_at is not null and old.anonymized_at is null)
      execute function patients_anonymized_drop_ai();

    -- Accepted items are record entries of kind "note" (the kind comes with migration 0310).
    grant select, insert, update on ai_settings to ${APP_ROLE};
    grant select, insert on ai_requests to ${APP_ROLE};
    grant select, insert, update, delete on ai_drafts to ${APP_ROLE};
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop trigger if exists patients_anonymized_drop_ai on patients;
    drop function if exists patients_anonymized_drop_ai();
    drop table if exists ai_drafts;
    drop table if exists ai_requests;
    drop table if exists ai_settings;
  `);
}
