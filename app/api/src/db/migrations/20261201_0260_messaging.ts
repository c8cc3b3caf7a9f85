// Patient messaging (docs/messaging.md): channels per organization (off by default), templates per
// purpose and language, the durable outbox, raw webhook events, inbound messages and prospects.
// Message variables and inbound content are encrypted with the patient's (or prospect's) data
// key; raw webhook bodies with an installation key until the worker has processed them. A status
// never goes backwards: outbox_status_guard() is the database's wall behind the worker's updates.
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';
const TENANT_TABLES = ['messaging_channels', 'message_templates', 'outbox_messages', 'prospects', 'inbound_messages'];
const PURPOSES = ['appointment_confirmation', 'appointment_reminder', 'appointment_change', 'appointment_cancellation', 'aftercare_step', 'document_request', 'treatment_plan_sent'];
const list = (xs: string[]) => xs.map((x) => `'${x}'`).join(',');

// Anonymization after the retention period (0003) also removes the patient's messages and inbound
// messages; down() restores the function as 0003 defined it.
const anonymizeFunction = (messaging: boolean) => `
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
      delete from patient_search where patient_id = p_patient;${messaging ? `
      delete from outbox_messages where patient_id = p_patient;
      delete from inbound_messages where patient_id = p_patient;` : ''}
      update patients set data = null, restriction_reason = null, anonymized_at = now(), updated_at = now()
        where id = p_patient;
      return true;
    end $$;`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table messaging_channels (
      organization_id uuid primary key references organizations(id),
      email_enabled boolean not null default false,
      email_from text check (email_from is null or length(email_from) between 3 and 200),
      whatsapp_enabled boolean not null default false,
      whatsapp_provider text not null default 'meta' check (whatsapp_provider in ('meta','360dialog')),
      -- one WhatsApp number per organization, and a number belongs to one organization
      whatsapp_phone_number_id text unique check (whatsapp_phone_number_id ~ '^[0-9]{1,32}$'),
      whatsapp_display_number text check (whatsapp_display_number ~ '^\\+[1-9][0-9]{6,14}$'),
      updated_by uuid,
      updated_at timestamptz not null default now()
    );

    create table message_templates (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      purpose text not null check (purpose in (${list(PURPOSES)})),
      language text not null check (language in ('de','en')),
      subject text check (length(subject) <= 200),
      body text not null check (length(body) between 1 and 4000),
      wa_template_name text check (length(wa_template_name) <= 512 and wa_template_name ~ '^[a-z0-9_]+$'),
      wa_language_code text check (wa_language_code ~ '^[a-z]{2,3}(_[A-Z]{2}){0,1}$'),
      wa_parameters text[] not null default '{}',
      health_data_reason text check (length(health_data_reason) between 3 and 500),
      health_data_enabled_by uuid,
      health_data_enabled_at timestamptz,
      updated_by uuid,
      updated_at timestamptz not null default now(),
      unique (organization_id, purpose, language)
    );

    create table outbox_messages (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      -- the cascade is the erasure hook: an erased patient has nothing left in the queue
      patient_id uuid not null references patients(id) on delete cascade,
      purpose text not null check (purpose in (${list(PURPOSES)})),
      channel text not null check (channel in ('email','whatsapp')),
      automated boolean not null,
      status text not null default 'queued'
        check (status in ('queued','sending','sent','delivered','read','failed','blocked','cancelled')),
      blocked_reason text check (blocked_reason ~ '^[a-z_]{2,40}$'),
      dedup_key text check (length(dedup_key) between 1 and 200),
      variables bytea not null,
      send_at timestamptz not null default now(),
      next_attempt_at timestamptz not null default now(),
      attempts int not null default 0,
      provider text check (provider in ('meta','360dialog','smtp')),
      provider_message_id text check (length(provider_message_id) <= 300),
      last_error text check (length(last_error) <= 1000),
      created_by uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      sent_at timestamptz,
      delivered_at timestamptz,
      read_at timestamptz,
      finished_at timestamptz,
      unique (organization_id, dedup_key)
    );
    create unique index outbox_provider_id on outbox_messages (provider, provider_message_id) where provider_message_id is not null;
    create index outbox_due on outbox_messages (organization_id, next_attempt_at) where status in ('queued','sending');
    create index outbox_patient on outbox_messages (patient_id, created_at);
    create index outbox_org_created on outbox_messages (organization_id, created_at desc);

    create function outbox_status_rank(s text) returns int language sql immutable as $$
      select case s when 'queued' then 0 when 'sending' then 1 when 'sent' then 2 when 'delivered' then 3 when 'read' then 4 else 9 end
    $$;
    create function outbox_status_guard() returns trigger language plpgsql as $$
    begin
      if new.status = old.status then return new; end if;
      if old.status in ('read','failed','blocked','cancelled')
         or (new.status in ('blocked','cancelled') and old.status not in ('queued','sending'))
         or (new.status = 'failed' and old.status not in ('queued','sending','sent'))
         or (new.status in ('queued','sending','sent','delivered','read') and outbox_status_rank(new.status) < outbox_status_rank(old.status)) then
        raise exception 'outbox status cannot go from % to %', old.status, new.status using errcode = '23514';
      end if;
      return new;
    end $$;
    create trigger outbox_status_guard before update of status on outbox_messages
      for each row execute function outbox_status_guard();

    create function outbox_notify() returns trigger language plpgsql as $$
    begin
      perform pg_notify('praxiskern_outbox', '');
      return null;
    end $$;
    create trigger outbox_notify after insert on outbox_messages
      for each statement execute function outbox_notify();

    -- Unknown WhatsApp senders (Interessenten): found again by the phone's blind index.
    create table prospects (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      phone_token bytea not null check (length(phone_token) = 16),
      data bytea not null,
      created_at timestamptz not null default now(),
      last_message_at timestamptz not null default now(),
      unique (organization_id, phone_token)
    );

    create table inbound_messages (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      patient_id uuid references patients(id) on delete cascade,
      prospect_id uuid references prospects(id) on delete cascade,
      provider text not null check (provider in ('meta','360dialog')),
      kind text not null check (kind in ('text','image','document','voice','audio','video','other')),
      content bytea not null,
      received_at timestamptz not null,
      stored_at timestamptz not null default now(),
      check ((patient_id is null) <> (prospect_id is null))
    );
    create index inbound_patient on inbound_messages (patient_id, received_at desc);
    create index inbound_prospect on inbound_messages (prospect_id, received_at desc);

    -- Installation-wide: a POST that passed the signature check, kept until the worker processed it.
    create table webhook_events (
      id bigserial primary key,
      provider text not null check (provider in ('whatsapp')),
      body bytea not null,
      received_at timestamptz not null default now(),
      processed_at timestamptz,
      attempts int not null default 0,
      error text check (length(error) <= 1000)
    );
    create index webhook_events_pending on webhook_events (id) where processed_at is null;
    create function webhook_events_notify() returns trigger language plpgsql as $$
    begin
      perform pg_notify('praxiskern_webhooks', new.id::text);
      return new;
    end $$;
    create trigger webhook_events_notify after insert on webhook_events
      for each row execute function webhook_events_notify();

    -- Keys (SHA-256 of provider event ids) of events already applied: redeliveries are ignored.
    create table webhook_seen (
      key bytea primary key check (length(key) = 32),
      seen_at timestamptz not null default now()
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

  await knex.raw(`
    -- The webhook names the receiving number only; which organization owns it is looked up here.
    create function messaging_organization_for_number(p_number_id text) returns uuid language sql stable
      security definer set search_path = public, pg_temp as $$
      select organization_id from messaging_channels where whatsapp_phone_number_id = p_number_id
    $$;
    -- The worker's look-up across organizations: which have messages due (ids only).
    create function outbox_due_organizations() returns setof uuid language sql stable
      security definer set search_path = public, pg_temp as $$
      select distinct organization_id from outbox_messages
        where status in ('queued','sending') and next_attempt_at <= now() and send_at <= now()
    $$;
    -- Metrics across organizations: counts and the age of the oldest due message, nothing else.
    create function outbox_stats() returns table (status text, messages bigint, oldest_due_seconds double precision)
      language sql stable security definer set search_path = public, pg_temp as $$
      select status, count(*), coalesce(max(extract(epoch from now() - greatest(send_at, created_at))) filter (where send_at <= now()), 0)
        from outbox_messages where status in ('queued','sending') group by status
    $$;
    revoke all on function messaging_organization_for_number(text), outbox_due_organizations(), outbox_stats() from public;
    grant execute on function messaging_organization_for_number(text), outbox_due_organizations(), outbox_stats() to ${APP_ROLE};

    grant select, insert, update on messaging_channels, message_templates, outbox_messages, prospects to ${APP_ROLE};
    grant select, insert on inbound_messages to ${APP_ROLE};
    -- delete: the worker prunes processed events (7 days) and seen ids (30 days; Meta retries for 7)
    grant select, insert, update, delete on webhook_events to ${APP_ROLE};
    grant usage on sequence webhook_events_id_seq to ${APP_ROLE};
    grant select, insert, delete on webhook_seen to ${APP_ROLE};
  `);
  await knex.raw(anonymizeFunction(true));
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(anonymizeFunction(false));
  await knex.raw(`
    drop function if exists messaging_organization_for_number(text), outbox_due_organizations(), outbox_stats();
    drop table if exists webhook_seen, webhook_events, inbound_messages, prospects, outbox_messages, message_templates, messaging_channels;
    drop function if exists outbox_status_guard(), outbox_status_rank(text), outbox_notify(), webhook_events_notify();
  `);
}
