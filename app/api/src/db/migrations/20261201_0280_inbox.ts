// The shared inbox (docs/messaging.md "Inbox"): one conversation row per patient or prospect with
// its assignment, "done" and how far staff have read; staff replies are outbox messages of purpose
// 'reply' whose free text is encrypted with the patient's key like template variables. A
// conversation is removed with its patient (cascade, anonymization) and exported with it.
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';
const PURPOSES = ['appointment_confirmation', 'appointment_reminder', 'appointment_change', 'appointment_cancellation', 'aftercare_step', 'document_request', 'treatment_plan_sent'];
const list = (xs: string[]) => xs.map((x) => `'${x}'`).join(',');

const anonymizeFunction = (inbox: boolean) => `
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
      delete from outbox_messages where patient_id = p_patient;
      delete from inbound_messages where patient_id = p_patient;${inbox ? `
      delete from conversations where patient_id = p_patient;` : ''}
      update patients set data = null, restriction_reason = null, anonymized_at = now(), updated_at = now()
        where id = p_patient;
      return true;
    end $$;`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table outbox_messages drop constraint outbox_messages_purpose_check;
    alter table outbox_messages add constraint outbox_messages_purpose_check check (purpose in (${list([...PURPOSES, 'reply'])}));

    create table conversations (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      patient_id uuid unique references patients(id) on delete cascade,
      prospect_id uuid unique references prospects(id) on delete cascade,
      assigned_to uuid references users(id),
      done_at timestamptz,
      -- inbound messages stored up to this point have been read by staff
      read_up_to timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check ((patient_id is null) <> (prospect_id is null))
    );
    create index inbound_org_stored on inbound_messages (organization_id, stored_at desc);
    alter table conversations enable row level security;
    alter table conversations force row level security;
    create policy conversations_isolation on conversations
      using (organization_id = app_org()) with check (organization_id = app_org());
    grant select, insert, update on conversations to ${APP_ROLE};
    -- a prospect becomes a patient: its messages move to the patient (re-encrypted), the prospect goes
    grant update (patient_id, prospect_id, content) on inbound_messages to ${APP_ROLE};
    grant delete on prospects to ${APP_ROLE};
  `);
  await knex.raw(anonymizeFunction(true));
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(anonymizeFunction(false));
  await knex.raw(`
    revoke update (patient_id, prospect_id, content) on inbound_messages from ${APP_ROLE};
    revoke delete on prospects from ${APP_ROLE};
    drop index if exists inbound_org_stored;
    drop table if exists conversations;
    delete from outbox_messages where purpose = 'reply';
    alter table outbox_messages drop constraint outbox_messages_purpose_check;
    alter table outbox_messages add constraint outbox_messages_purpose_check check (purpose in (${list(PURPOSES)}));
  `);
}
