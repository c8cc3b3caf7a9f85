// Issue 12, item 2: the ICD-10-GM catalogue (BfArM download files, public reference data). One
// catalogue per installation, versioned by year; no patient data and no organization column. Every
// signed-in clinical role reads it (diagnosis entry); only installation operators replace a version
// (installation scope, RLS on writes). An import replaces its version in one transaction.
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table icd_versions (
      version int primary key check (version between 2000 and 2100),
      source_format text not null check (source_format in ('claml','kodes')),
      code_count int not null check (code_count >= 0),
      imported_by uuid,
      imported_at timestamptz not null default now()
    );
    create table icd_codes (
      version int not null references icd_versions(version) on delete cascade on update cascade,
      code text not null check (code ~ '^[A-Z][0-9]{2}(\\.[0-9]{1,2}){0,1}$'),
      -- '†' dagger (aetiology), '*' asterisk (manifestation), '!' optional: the mark a diagnosis shows
      mark text check (mark in ('†','*','!')),
      terminal boolean not null,
      label text not null check (length(label) between 1 and 1000),
      -- lower case, umlauts folded (ä → ae and a): what the search compares with
      search_text text not null,
      primary key (version, code)
    );
    create index icd_codes_prefix on icd_codes (version, code text_pattern_ops);

    do $$ declare t text; begin
      foreach t in array array['icd_versions', 'icd_codes'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy %I on %I for select using (true)', t || '_read', t);
        execute format('create policy %I on %I for insert with check (app_installation())', t || '_insert', t);
        execute format('create policy %I on %I for delete using (app_installation())', t || '_delete', t);
        execute format('create policy %I on %I for update using (app_installation()) with check (app_installation())', t || '_update', t);
      end loop;
    end $$;
    grant select, insert, delete on icd_versions, icd_codes to ${APP_ROLE};
    grant update on icd_versions to ${APP_ROLE};
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop table if exists icd_codes; drop table if exists icd_versions;`);
}
