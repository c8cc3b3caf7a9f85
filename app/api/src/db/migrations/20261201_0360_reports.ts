// Reports and statistics (docs/reports.md). Three plain (unencrypted) columns that reports count
// in SQL without decrypting anything, the organization's report settings, and the indexes the
// aggregations use (bench/reports.ts):
// - patients.source_channel: how a patient first reached the practice (a master-data enum, not
//   identifying on its own; counts by channel need server-side aggregation, so no encryption).
// - record_entries.prequal_status: the pre-qualification outcome of an anamnesis entry, copied
//   from the encrypted entry when it is written (a flag like kind; the answers and reasons stay
//   encrypted). Entries written before this migration have null (outcome not known to reports).
// - report_settings: minimum count per cell (small-count suppression) and the working hours that
//   define a resource's available minutes for utilisation.
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';
export const SOURCE_CHANNELS = ['website_form', 'whatsapp', 'email', 'phone', 'referral', 'walk_in', 'other'] as const;
const list = (xs: readonly string[]) => xs.map((x) => `'${x}'`).join(',');

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table patients add column source_channel text check (source_channel in (${list(SOURCE_CHANNELS)}));
    alter table record_entries add column prequal_status text
      check (prequal_status is null or (prequal_status in ('qualified','needs_review','not_qualified') and kind = 'anamnesis'));

    create table report_settings (
      organization_id uuid primary key references organizations(id),
      min_count int not null default 5 check (min_count between 1 and 100),
      work_day_start time not null default '08:00',
      work_day_end time not null default '18:00',
      -- ISO weekdays (1 = Monday) on which resources are available
      work_days int[] not null default '{1,2,3,4,5}' check (work_days <@ '{1,2,3,4,5,6,7}' and cardinality(work_days) between 1 and 7),
      updated_by uuid,
      updated_at timestamptz not null default now(),
      check (work_day_end > work_day_start)
    );
    alter table report_settings enable row level security;
    alter table report_settings force row level security;
    create policy report_settings_isolation on report_settings
      using (organization_id = app_org()) with check (organization_id = app_org());
    grant select, insert, update on report_settings to ${APP_ROLE};

    -- Aggregation paths (bench/reports.ts): message and inbox reports range over received_at and
    -- created_at per organization; the funnel and response time look up per patient.
    create index inbound_org_received on inbound_messages (organization_id, received_at);
    create index prospects_org_created on prospects (organization_id, created_at);
    create index record_entries_anamnesis on record_entries (patient_id, prequal_status) where kind = 'anamnesis';
    create index outbox_replies on outbox_messages (patient_id, created_at) where purpose = 'reply';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index if exists outbox_replies;
    drop index if exists record_entries_anamnesis;
    drop index if exists prospects_org_created;
    drop index if exists inbound_org_received;
    drop table if exists report_settings;
    alter table record_entries drop column if exists prequal_status;
    alter table patients drop column if exists source_channel;
  `);
}
