// Issue 11, item 1: appointments. Types and resources (practitioners, rooms) per organization,
// appointments stored in UTC (starts_at, ends_at; their period is the range tstzrange(starts_at,
// ends_at, '[)'), an expression rather than a generated column so plain row copies restore), and the rule "no double booking of
// a practitioner or a room" enforced by PostgreSQL itself: two exclusion constraints (btree_gist)
// on resource + period that ignore cancelled and no-show appointments. Notes and cancel reasons are
// encrypted with the patient's data key in the API (bytea here). The organization gets a time zone
// (IANA name, validated by the API; default Europe/Berlin). Every organization, existing or new,
// gets the three default types (consultation, surgery, follow-up) from an insert trigger.
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create extension if not exists btree_gist;

    alter table organizations
      add column time_zone text not null default 'Europe/Berlin' check (time_zone ~ '^[A-Za-z][A-Za-z0-9_+/-]{0,63}$');

    create table appointment_types (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      key text check (key in ('consultation', 'surgery', 'follow_up')),
      name_de text not null check (length(name_de) between 1 and 100),
      name_en text not null check (length(name_en) between 1 and 100),
      color text not null check (color ~ '^#[0-9a-f]{6}$'),
      default_minutes int not null check (default_minutes between 5 and 720),
      active boolean not null default true,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (organization_id, key),
      unique (organization_id, id)
    );

    create table appointment_resources (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      kind text not null check (kind in ('practitioner', 'room')),
      name text not null check (length(name) between 1 and 200),
      user_id uuid references users(id) on delete set null,
      active boolean not null default true,
      -- iCalendar feed (practitioners only): SHA-256 of the secret token; null = no feed.
      feed_token_hash bytea unique,
      feed_enabled_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check (kind = 'practitioner' or (user_id is null and feed_token_hash is null)),
      check ((feed_token_hash is null) = (feed_enabled_at is null)),
      unique (organization_id, id)
    );
    create unique index appointment_resources_user on appointment_resources (organization_id, user_id) where user_id is not null;

    create table appointments (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      patient_id uuid not null references patients(id) on delete cascade,
      type_id uuid not null,
      practitioner_id uuid,
      room_id uuid,
      starts_at timestamptz not null,
      ends_at timestamptz not null,
      status text not null default 'planned'
        check (status in ('planned', 'confirmed', 'arrived', 'in_treatment', 'done', 'no_show', 'cancelled')),
      cancel_reason bytea,
      cancelled_at timestamptz,
      arrived_at timestamptz,
      notes bytea,
      version int not null default 1,
      created_by uuid,
      updated_by uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check (ends_at > starts_at),
      check (ends_at - starts_at <= interval '24 hours'),
      check (practitioner_id is not null or room_id is not null),
      check ((status = 'cancelled') = (cancelled_at is not null)),
      -- References stay inside the organization (composite keys), whatever the API does.
      foreign key (organization_id, type_id) references appointment_types (organization_id, id),
      foreign key (organization_id, practitioner_id) references appointment_resources (organization_id, id),
      foreign key (organization_id, room_id) references appointment_resources (organization_id, id),
      constraint appointments_no_double_booking_practitioner
        exclude using gist (practitioner_id with =, tstzrange(starts_at, ends_at, '[)') with &&) where (practitioner_id is not null and status not in ('cancelled', 'no_show')),
      constraint appointments_no_double_booking_room
        exclude using gist (room_id with =, tstzrange(starts_at, ends_at, '[)') with &&) where (room_id is not null and status not in ('cancelled', 'no_show'))
    );
    -- Range reads compare starts_at/ends_at with b-tree indexes: under row-level security only
    -- leakproof operators become index conditions, and the range operator && is not leakproof.
    create index appointments_org_starts on appointments (organization_id, starts_at);
    create index appointments_practitioner_starts on appointments (practitioner_id, starts_at) where practitioner_id is not null;
    create index appointments_room_starts on appointments (room_id, starts_at) where room_id is not null;
    create index appointments_patient on appointments (patient_id, starts_at);

    do $$ declare t text; begin
      foreach t in array array['appointment_types', 'appointment_resources', 'appointments'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy %I on %I using (organization_id = app_org()) with check (organization_id = app_org())', t || '_isolation', t);
      end loop;
    end $$;

    -- The three default types of a practice; names can be changed by the admin afterwards.
    create function seed_appointment_types(p_org uuid) returns void language sql security definer
      set search_path = public, pg_temp as $$
        insert into appointment_types (organization_id, key, name_de, name_en, color, default_minutes) values
          (p_org, 'consultation', 'Beratung', 'Consultation', '#2563eb', 30),
          (p_org, 'surgery', 'Operation', 'Surgery', '#dc2626', 240),
          (p_org, 'follow_up', 'Nachsorge', 'Follow-up', '#16a34a', 20)
        on conflict (organization_id, key) do nothing
      $$;
    create function organizations_seed_appointment_types() returns trigger language plpgsql security definer
      set search_path = public, pg_temp as $$
        begin perform seed_appointment_types(new.id); return null; end
      $$;
    create trigger organizations_seed_appointment_types after insert on organizations
      for each row execute function organizations_seed_appointment_types();
    select seed_appointment_types(id) from organizations;
    revoke execute on function seed_appointment_types(uuid) from public;

    -- An anonymized record (retention) keeps no appointments: they carry the patient's notes.
    create function patients_anonymized_drop_appointments() returns trigger language plpgsql security definer
      set search_path = public, pg_temp as $$
        begin delete from appointments where patient_id = new.id; return null; end
      $$;
    create trigger patients_anonymized_drop_appointments after update of anonymized_at on patients
      for each row when (new.anonymized_at is not null and old.anonymized_at is null)
      execute function patients_anonymized_drop_appointments();

    -- The iCalendar feed is fetched without a session: the token's hash names organization and
    -- practitioner (like the session look-up, a SECURITY DEFINER function of the owner).
    create function appointment_feed_resolve(p_hash bytea)
      returns table (organization_id uuid, resource_id uuid) language sql stable security definer
      set search_path = public, pg_temp as $$
        select r.organization_id, r.id from appointment_resources r
          join organizations o on o.id = r.organization_id
         where r.feed_token_hash = p_hash and r.active and o.active
      $$;
    revoke execute on function appointment_feed_resolve(bytea) from public;
    grant execute on function appointment_feed_resolve(bytea) to ${APP_ROLE};

    grant select, insert, update on appointment_types, appointment_resources to ${APP_ROLE};
    grant select, insert, update on appointments to ${APP_ROLE};
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop trigger if exists patients_anonymized_drop_appointments on patients;
    drop function if exists patients_anonymized_drop_appointments();
    drop trigger if exists organizations_seed_appointment_types on organizations;
    drop function if exists organizations_seed_appointment_types();
    drop function if exists seed_appointment_types(uuid);
    drop function if exists appointment_feed_resolve(bytea);
    drop table if exists appointments;
    drop table if exists appointment_resources;
    drop table if exists appointment_types;
    alter table organizations drop column if exists time_zone;
  `);
}
