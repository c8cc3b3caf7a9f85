// Issue 12, item 5: what an enrollment link renews. 'full' (new password and new authenticator,
// as before), 'password' (new password; the person confirms with the authenticator they still
// have) or 'totp' (new authenticator and recovery codes; the person confirms with their password).
// The old secret stops working when the link is issued (user.service.ts resetLocalAccount), so a
// lost phone or a leaked password is useless from that moment, not only after the link is used.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table enrollments add column kind text not null default 'full' check (kind in ('full', 'password', 'totp'));
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table enrollments drop column kind;
  `);
}
