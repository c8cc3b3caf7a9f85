// Issue 14, item 3: finance. Quotes (Kostenvoranschläge) per treatment plan with line items,
// deposits (Anzahlungen), payments recorded by hand or through Stripe, refunds; Stripe Checkout
// Sessions and the webhook events already applied (replays are recognised by the event id).
// Amounts are integer cents (bigint). Line item descriptions may reveal treatment: they are kept
// encrypted with the patient's data key (quotes.descriptions, a JSON array) and shown to clinical
// roles only; amounts, VAT categories and the neutral reference stay in clear for the finance view.
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table finance_settings (
      organization_id uuid primary key references organizations(id),
      stripe_enabled boolean not null default false,
      stripe_since timestamptz,
      -- send the patient's name and e-mail to Stripe (Checkout prefill); off by default
      stripe_share_contact boolean not null default false,
      updated_by uuid,
      updated_at timestamptz not null default now()
    );

    create table quotes (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      patient_id uuid not null references patients(id) on delete cascade,
      plan_entry_id uuid references record_entries(id) on delete set null,
      reference text not null check (reference ~ '^KV-[0-9A-Z]{8}$'),
      currency text not null check (currency in ('EUR')),
      status text not null default 'draft' check (status in ('draft', 'sent', 'accepted', 'declined', 'expired', 'cancelled')),
      -- JSON array of the line item descriptions, encrypted with the patient's key (null once anonymized)
      descriptions bytea,
      net_cents bigint not null check (net_cents >= 0),
      vat_cents bigint not null check (vat_cents >= 0),
      total_cents bigint not null check (total_cents = net_cents + vat_cents),
      valid_until date,
      due_date date,
      sent_at timestamptz,
      decided_at timestamptz,
      created_by uuid,
      updated_by uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (organization_id, reference),
      unique (organization_id, id)
    );
    create index quotes_patient on quotes (patient_id, created_at);
    create index quotes_status on quotes (organization_id, status);

    create table quote_items (
      organization_id uuid not null references organizations(id),
      quote_id uuid not null,
      position int not null check (position between 0 and 99),
      quantity int not null check (quantity between 1 and 10000),
      unit_cents bigint not null check (unit_cents between 0 and 100000000),
      vat_category text not null check (vat_category in ('medical_exempt', 'standard', 'reduced')),
      vat_rate_bp int not null check (vat_rate_bp in (0, 700, 1900)),
      net_cents bigint not null,
      vat_cents bigint not null,
      primary key (quote_id, position),
      check ((vat_category = 'medical_exempt') = (vat_rate_bp = 0)),
      foreign key (organization_id, quote_id) references quotes (organization_id, id) on delete cascade
    );

    create table finance_deposits (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      patient_id uuid not null references patients(id) on delete cascade,
      quote_id uuid not null,
      reference text not null check (reference ~ '^AZ-[0-9A-Z]{8}$'),
      amount_cents bigint not null check (amount_cents > 0),
      due_date date not null,
      cancelled_at timestamptz,
      created_by uuid,
      created_at timestamptz not null default now(),
      unique (organization_id, reference),
      unique (organization_id, id),
      foreign key (organization_id, quote_id) references quotes (organization_id, id) on delete cascade
    );
    create index finance_deposits_quote on finance_deposits (quote_id);

    create table stripe_checkouts (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      patient_id uuid not null references patients(id) on delete cascade,
      quote_id uuid not null,
      deposit_id uuid,
      session_id text not null,
      url text,
      amount_cents bigint not null check (amount_cents > 0),
      status text not null default 'open' check (status in ('open', 'complete', 'expired')),
      payment_intent text,
      created_by uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (organization_id, session_id),
      unique (organization_id, id),
      foreign key (organization_id, quote_id) references quotes (organization_id, id) on delete cascade,
      foreign key (organization_id, deposit_id) references finance_deposits (organization_id, id) on delete cascade
    );

    create table finance_payments (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      patient_id uuid not null references patients(id) on delete cascade,
      quote_id uuid not null,
      deposit_id uuid,
      receipt_number text not null check (receipt_number ~ '^QT-[0-9A-Z]{8}$'),
      method text not null check (method in ('bank_transfer', 'cash', 'card_terminal', 'stripe')),
      amount_cents bigint not null check (amount_cents > 0),
      paid_on date not null,
      reference text check (length(reference) <= 140),
      checkout_id uuid,
      stripe_payment_intent text,
      recorded_by uuid,
      created_at timestamptz not null default now(),
      unique (organization_id, receipt_number),
      unique (organization_id, stripe_payment_intent),
      unique (organization_id, id),
      check ((method = 'stripe') = (stripe_payment_intent is not null)),
      foreign key (organization_id, quote_id) references quotes (organization_id, id) on delete cascade,
      foreign key (organization_id, deposit_id) references finance_deposits (organization_id, id) on delete set null (deposit_id),
      foreign key (organization_id, checkout_id) references stripe_checkouts (organization_id, id) on delete set null (checkout_id)
    );
    create index finance_payments_quote on finance_payments (quote_id);
    create index finance_payments_org_day on finance_payments (organization_id, paid_on);

    create table finance_refunds (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      patient_id uuid not null references patients(id) on delete cascade,
      payment_id uuid not null,
      amount_cents bigint not null check (amount_cents > 0),
      refunded_on date not null,
      method text not null check (method in ('bank_transfer', 'cash', 'card_terminal', 'stripe')),
      stripe_refund_id text,
      recorded_by uuid,
      created_at timestamptz not null default now(),
      unique (organization_id, stripe_refund_id),
      foreign key (organization_id, payment_id) references finance_payments (organization_id, id) on delete cascade
    );
    create index finance_refunds_payment on finance_refunds (payment_id);

    -- Stripe webhook events by id: a replayed event is recognised and applied once. An event whose
    -- object is not known yet (a refund before its payment) waits as 'deferred' with the few fields
    -- it needs (no personal data) and is applied when its payment arrives.
    create table stripe_events (
      organization_id uuid not null references organizations(id),
      event_id text not null check (length(event_id) between 1 and 255),
      type text not null,
      state text not null check (state in ('applied', 'ignored', 'deferred')),
      deferred jsonb,
      received_at timestamptz not null default now(),
      primary key (organization_id, event_id)
    );

    do $$ declare t text; begin
      foreach t in array array['finance_settings', 'quotes', 'quote_items', 'finance_deposits', 'stripe_checkouts', 'finance_payments', 'finance_refunds', 'stripe_events'] loop
        execute format('alter table %I enable row level security', t);
        execute format('alter table %I force row level security', t);
        execute format('create policy %I on %I using (organization_id = app_org()) with check (organization_id = app_org())', t || '_isolation', t);
      end loop;
    end $$;

    -- An anonymized record (retention) keeps its amounts (bookkeeping) but no item descriptions.
    create function patients_anonymized_drop_quote_descriptions() returns trigger language plpgsql security definer
      set search_path = public, pg_temp as $$
        begin update quotes set descriptions = null where patient_id = new.id; return null; end
      $$;
    create trigger patients_anonymized_drop_quote_descriptions after update of anonymized_at on patients
      for each row when (new.anonymized_at is not null and old.anonymized_at is null)
      execute function patients_anonymized_drop_quote_descriptions();

    grant select, insert, update on finance_settings to ${APP_ROLE};
    grant select, insert, update, delete on quotes, quote_items, finance_deposits, stripe_checkouts, finance_payments, finance_refunds to ${APP_ROLE};
    grant select, insert, update on stripe_events to ${APP_ROLE};
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop trigger if exists patients_anonymized_drop_quote_descriptions on patients;
    drop function if exists patients_anonymized_drop_quote_descriptions();
    drop table if exists stripe_events;
    drop table if exists finance_refunds;
    drop table if exists finance_payments;
    drop table if exists stripe_checkouts;
    drop table if exists finance_deposits;
    drop table if exists quote_items;
    drop table if exists quotes;
    drop table if exists finance_settings;
  `);
}
