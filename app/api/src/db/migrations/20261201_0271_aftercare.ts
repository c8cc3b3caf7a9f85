// Issue 11, item 2: aftercare and follow-up plans. Templates (per organization, managed by admins)
// are steps relative to an anchor date: day N after, a message and/or a follow-up appointment to
// book. Applied to a patient's treatment plan (a record entry of kind plan) with an anchor date,
// the steps are copied into the patient's plan, where each can get another date or be skipped.
// Titles in the patient's plan are encrypted with the patient's data key (bytea); dates stay in
// clear like appointment times (they order the task list). Messages go through the outbox
// (dedup key "aftercare:<step id>"); a booked follow-up points at its appointment.
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table aftercare_templates (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      name_de text not null check (length(name_de) between 1 and 200),
      name_en text not null check (length(name_en) between 1 and 200),
      active boolean not null default true,
      created_by uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (organization_id, id)
    );

    create table aftercare_template_steps (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      template_id uuid not null,
      position int not null check (position between 0 and 99),
      day_offset int not null check (day_offset between 0 and 3650),
      send_message boolean not null,
      book_appointment boolean not null,
      title_de text not null check (length(title_de) between 1 and 200),
      title_en text not null check (length(title_en) between 1 and 200),
      appointment_type_id uuid,
      check (send_message or book_appointment),
      check (book_appointment or appointment_type_id is null),
      unique (template_id, position),
      foreign key (organization_id, template_id) references aftercare_templates (organization_id, id) on delete cascade,
      foreign key (organization_id, appointment_type_id) references appointment_types (organization_id, id)
    );

    create table aftercare_plans (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      patient_id uuid not null references patients(id) on delete cascade,
      template_id uuid not null,
      plan_entry_id uuid not null references record_entries(id) on delete cascade,
      anchor_date date not null,
      -- {"de": …, "en": …}: the template's name when applied, encrypted with the patient's key
      title bytea not null,
      status text not null default 'active' check (status in ('active', 'cancelled')),
      cancelled_at timestamptz,
      created_by uuid,
      updated_by uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check ((status = 'cancelled') = (cancelled_at is not null)),
      foreign key (organization_id, template_id) references aftercare_templates (organization_id, id),
      unique (organization_id, id)
    );
    create index aftercare_plans_patient on aftercare_plans (patient_id, created_at);

    create table aftercare_steps (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      plan_id uuid not null,
      patient_id uuid not null references patients(id) on delete cascade,
      position int not null,
      day_offset int not null,
      due_date date not null,
      send_message boolean not null,
      book_appointment boolean not null,
      -- {"de": …, "en": …}, encrypted with the patient's key
      title bytea not null,
      appointment_type_id uuid,
      status text not null default 'open' check (status in ('open', 'skipped', 'booked', 'cancelled')),
      appointment_id uuid references appointments(id) on delete set null,
      updated_by uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check (status <> 'booked' or book_appointment),
      unique (plan_id, position),
      foreign key (organization_id, plan_id) references aftercare_plans (organization_id, id) on delete cascade,
      foreign key (organization_id, appointment_type_id) references appointment_types (organization_id, id)
    );
    create index aftercare_steps_tasks on aftercare_steps (organization_id, due_date) where status = 'open' and book_appointment;
    create index aftercare_steps_patient on aftercare_steps (patient_id);

    do $$ declare t text; begin
      foreach t in array array['aftercare_templates', 'aftercare_template_steps', 'aftercare_plans', 'aftercare_steps'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy %I on %I using (organization_id = app_org()) with check (organization_id = app_org())', t || '_isolation', t);
      end loop;
    end $$;

    -- An anonymized record (retention) keeps no aftercare plan: it tells about the treatment.
    create function patients_anonymized_drop_aftercare() returns trigger language plpgsql security definer
      set search_path = public, pg_temp as $$
        begin delete from aftercare_plans where patient_id = new.id; return null; end
      $$;
    create trigger patients_anonymized_drop_aftercare after update of anonymized_at on patients
      for each row when (new.anonymized_at is not null and old.anonymized_at is null)
      execute function patients_anonymized_drop_aftercare();

    grant select, insert, update, delete on aftercare_templates, aftercare_template_steps to ${APP_ROLE};
    grant select, insert, update on aftercare_plans, aftercare_steps to ${APP_ROLE};
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop trigger if exists patients_anonymized_drop_aftercare on patients;
    drop function if exists patients_anonymized_drop_aftercare();
    drop table if exists aftercare_steps;
    drop table if exists aftercare_plans;
    drop table if exists aftercare_template_steps;
    drop table if exists aftercare_templates;
  `);
}
