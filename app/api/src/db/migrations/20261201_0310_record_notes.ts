// Issue 12, item 2: the Karteikarte's quick entry writes short lines (a note or a finding) as record
// entries of the new kind "note": encrypted with the patient's key and append-only like the others.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table record_entries drop constraint record_entries_kind_check;
    alter table record_entries add constraint record_entries_kind_check check (kind in ('anamnesis','diagnosis','treatment','plan','note'));
    create index record_entries_patient_time on record_entries (patient_id, created_at desc, id desc);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index if exists record_entries_patient_time;
    alter table record_entries drop constraint record_entries_kind_check;
    alter table record_entries add constraint record_entries_kind_check check (kind in ('anamnesis','diagnosis','treatment','plan'));
  `);
}
