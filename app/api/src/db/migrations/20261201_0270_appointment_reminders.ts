// Issue 11, item 1: appointment reminders. Each appointment type carries the offsets (minutes
// before the start) at which a reminder goes out; default one reminder 24 h before. At most three
// offsets, each between 15 minutes and 14 days. The messages themselves live in the outbox
// (dedup keys "appointment:<id>:reminder:<minutes>m"); nothing else is stored per appointment.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table appointment_types
      add column reminder_offsets int[] not null default '{1440}'
        check (cardinality(reminder_offsets) <= 3 and 15 <= all (reminder_offsets) and 20160 >= all (reminder_offsets)
               and array_position(reminder_offsets, null) is null);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table appointment_types drop column reminder_offsets');
}
