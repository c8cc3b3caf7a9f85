// Issue 14, item 2: travel data of patients who travel in for treatment. Flights, hotel stays and
// transfers belong to a patient and (optionally) to the treatment plan (a record entry of kind
// plan) the trip serves. Everything that names or identifies (airline, flight number, airports,
// hotel name and address, pickup place, driver) is encrypted with the patient's data key (bytea
// "data"); only what the arrivals board must query or what the database must check stays in
// clear: direction and arrival time of a flight, the check-in/check-out days of a hotel stay, the
// pickup time of a transfer (times alone, like appointment times). Per organization: the optional
// flight-status look-up (off by default) with its base URL and access key (encrypted with the
// organization's settings key).
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';
const TABLES = ['travel_flights', 'travel_hotels', 'travel_transfers', 'travel_settings'];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table travel_flights (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      patient_id uuid not null references patients(id) on delete cascade,
      plan_entry_id uuid references record_entries(id) on delete cascade,
      direction text not null check (direction in ('inbound', 'outbound')),
      -- the arrival time as scheduled or (after a flight-status look-up) as estimated/actual
      arrival_at timestamptz not null,
      delay_minutes int check (delay_minutes between -1440 and 10080),
      status_checked_at timestamptz,
      -- airline, flight number, airports, departure time, scheduled arrival, flight status (patient's key)
      data bytea not null,
      created_by uuid,
      updated_by uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index travel_flights_board on travel_flights (organization_id, arrival_at) where direction = 'inbound';
    create index travel_flights_patient on travel_flights (patient_id);

    create table travel_hotels (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      patient_id uuid not null references patients(id) on delete cascade,
      plan_entry_id uuid references record_entries(id) on delete cascade,
      check_in date not null,
      check_out date not null,
      -- hotel name and address (patient's key)
      data bytea not null,
      created_by uuid,
      updated_by uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check (check_out > check_in)
    );
    create index travel_hotels_patient on travel_hotels (patient_id, check_in);

    create table travel_transfers (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      patient_id uuid not null references patients(id) on delete cascade,
      plan_entry_id uuid references record_entries(id) on delete cascade,
      pickup_at timestamptz not null,
      -- pickup place, destination, driver name and phone (patient's key)
      data bytea not null,
      created_by uuid,
      updated_by uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index travel_transfers_patient on travel_transfers (patient_id, pickup_at);

    create table travel_settings (
      organization_id uuid primary key references organizations(id),
      flight_status_enabled boolean not null default false,
      base_url text check (base_url is null or length(base_url) between 8 and 500),
      -- the AviationStack access key, encrypted with the organization's settings key
      access_key bytea,
      enabled_at timestamptz,
      updated_by uuid,
      updated_at timestamptz not null default now()
    );

    do $$ declare t text; begin
      foreach t in array array['${TABLES.join("', '")}'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy %I on %I using (organization_id = app_org()) with check (organization_id = app_org())', t || '_isolation', t);
      end loop;
    end $$;

    -- An anonymized record (retention) keeps no travel data: it names places, dates and people.
    create function patients_anonymized_drop_travel() returns trigger language plpgsql security definer
      set search_path = public, pg_temp as $$
        begin
          delete from travel_flights where patient_id = new.id;
          delete from travel_hotels where patient_id = new.id;
          delete from travel_transfers where patient_id = new.id;
          return null;
        end
      $$;
    create trigger patients_anonymized_drop_travel after update of anonymized_at on patients
      for each row when (new.anonymized_at is not null and old.anonymized_at is null)
      execute function patients_anonymized_drop_travel();

    grant select, insert, update, delete on travel_flights, travel_hotels, travel_transfers to ${APP_ROLE};
    grant select, insert, update on travel_settings to ${APP_ROLE};
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop trigger if exists patients_anonymized_drop_travel on patients;
    drop function if exists patients_anonymized_drop_travel();
    drop table if exists travel_flights;
    drop table if exists travel_hotels;
    drop table if exists travel_transfers;
    drop table if exists travel_settings;
  `);
}
