// Performance fix for the audit hash chain (found by bench/patients-search.ts): the trigger looked
// up the previous entry with "organization_id is not distinct from …", which cannot use the
// unique index audit_log_chain (coalesce(organization_id, zero uuid), seq) and scanned the whole
// table under the per-organization advisory lock (74 ms at 300,000 entries, growing linearly;
// every audited request of a clinic queued behind it). Same rows, same order, now an index probe.
import type { Knex } from 'knex';

const ZERO = `'00000000-0000-0000-0000-000000000000'::uuid`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create or replace function audit_chain() returns trigger language plpgsql security definer
      set search_path = public, pg_temp as $$
    declare
      last record;
    begin
      perform pg_advisory_xact_lock(7061, hashtext(coalesce(new.organization_id::text, '-')));
      select a.seq, a.hash into last from audit_log a
        where coalesce(a.organization_id, ${ZERO}) = coalesce(new.organization_id, ${ZERO})
        order by coalesce(a.organization_id, ${ZERO}) desc, a.seq desc limit 1;
      new.seq := coalesce(last.seq, 0) + 1;
      new.prev_hash := coalesce(last.hash, repeat('0', 64));
      new.created_at := clock_timestamp();
      new.hash := audit_entry_hash(new);
      return new;
    end $$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    create or replace function audit_chain() returns trigger language plpgsql security definer
      set search_path = public, pg_temp as $$
    declare
      last record;
    begin
      perform pg_advisory_xact_lock(7061, hashtext(coalesce(new.organization_id::text, '-')));
      select a.seq, a.hash into last from audit_log a
        where a.organization_id is not distinct from new.organization_id
        order by a.seq desc limit 1;
      new.seq := coalesce(last.seq, 0) + 1;
      new.prev_hash := coalesce(last.hash, repeat('0', 64));
      new.created_at := clock_timestamp();
      new.hash := audit_entry_hash(new);
      return new;
    end $$;
  `);
}
