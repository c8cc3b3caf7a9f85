// Issue 9, item 1: audit entries without a lock per organization (docs/security-model.md,
// "Accountability"). An entry is inserted unchained with its own content hash (entry_hash); the
// sequencer (audit_sequence, run by the app and the worker) gives it its seq and links its hash
// into the organization's chain shortly after commit. Nothing serializes the transactions that
// write entries any more; only the sequencer takes a (transaction-level) lock, one at a time.
//
// Ordering rule: there is no high-water mark. Each batch takes the unchained entries its snapshot
// sees (index audit_log_waiting), the lowest insert ids first, and chains them per organization in
// id order after the chain's head. An entry whose transaction commits late (a lower id than entries
// already chained) is simply taken by a later batch: it is never skipped. Consequence: when A's
// transaction committed before B's began, seq(A) < seq(B) in their chain (B visible ⇒ A visible,
// and A's id was drawn before B's); entries of overlapping transactions may be chained in either order.
//
// The append-only triggers allow exactly one kind of UPDATE: filling seq, prev_hash, hash and
// chained_at of unchained entries whose content still matches their entry_hash, each with the
// correct link to its chain's previous entry (checked per statement, so a batch is one UPDATE).
// Everything else (any other update, delete, truncate) raises.
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';
const NO_ORG = `'00000000-0000-0000-0000-000000000000'::uuid`;
const GENESIS = `repeat('0', 64)`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table audit_log
      alter column seq drop not null,
      alter column prev_hash drop not null,
      alter column hash drop not null,
      add column entry_hash text,
      add column chained_at timestamptz;
    -- An entry is either chained (seq, prev_hash, hash) or waiting with its content hash.
    alter table audit_log add constraint audit_log_chained_or_waiting check (
      (seq is not null and prev_hash is not null and hash is not null)
      or (seq is null and prev_hash is null and hash is null and entry_hash is not null));
    create index audit_log_waiting on audit_log (id) where seq is null;
    -- The chain index holds chained entries only: an insert no longer adds to it.
    drop index audit_log_chain;
    create unique index audit_log_chain on audit_log (coalesce(organization_id, ${NO_ORG}), seq) where seq is not null;

    -- The content hash given at insert: everything the entry says, and its insert id.
    create or replace function audit_content_hash(r audit_log) returns text language sql immutable as $$
      select encode(sha256(convert_to(concat_ws('|',
        r.id::text, coalesce(r.organization_id::text, '-'),
        (extract(epoch from r.created_at) * 1000000)::bigint::text,
        coalesce(r.actor_user_id::text, '-'), r.action, coalesce(r.object_type, '-'), coalesce(r.object_id, '-'),
        r.outcome, coalesce(r.request_id, '-'), coalesce(r.ip, '-'), coalesce(r.user_agent, '-'), r.details::text
      ), 'UTF8')), 'hex')
    $$;

    drop trigger audit_chain on audit_log;
    drop function audit_chain();
    -- No lock, no look-up: the entry waits for the sequencer.
    create or replace function audit_entry_insert() returns trigger language plpgsql
      set search_path = public, pg_temp as $$
    begin
      new.seq := null;
      new.prev_hash := null;
      new.hash := null;
      new.chained_at := null;
      new.created_at := clock_timestamp();
      new.entry_hash := audit_content_hash(new);
      return new;
    end $$;
    create trigger audit_entry_insert before insert on audit_log for each row execute function audit_entry_insert();

    -- Append-only, except the chaining itself. Statement-level, so a batch is checked in one pass:
    -- the trigger keeps its old name (runbooks and tests refer to it) and now guards UPDATE only.
    drop trigger audit_no_update on audit_log;
    create or replace function audit_no_delete() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is append-only' using errcode = '42501';
    end $$;
    create trigger audit_no_delete before delete on audit_log for each statement execute function audit_no_delete();

    -- Transition tables have no statistics: without a hint the old/new join is a nested loop (n²).
    create or replace function audit_only_chaining() returns trigger language plpgsql
      set search_path = public, pg_temp set enable_nestloop = off as $$
    declare
      bad bigint;
    begin
      -- Only entries without seq, and only seq, prev_hash, hash, chained_at may change.
      select n.id into bad from new_rows n left join old_rows o on o.id = n.id
       where o.id is null or o.seq is not null or n.seq is null or n.seq < 1
          or (n.organization_id, n.created_at, n.actor_user_id, n.action, n.object_type, n.object_id, n.outcome,
              n.request_id, n.ip, n.user_agent, n.details, n.entry_hash)
             is distinct from
             (o.organization_id, o.created_at, o.actor_user_id, o.action, o.object_type, o.object_id, o.outcome,
              o.request_id, o.ip, o.user_agent, o.details, o.entry_hash)
       limit 1;
      if found then
        raise exception 'audit_log is append-only (chaining may only set seq, prev_hash, hash of an unchained entry)' using errcode = '42501';
      end if;
      select n.id into bad from new_rows n where n.entry_hash is distinct from audit_content_hash(n::audit_log) order by n.id limit 1;
      if found then
        raise exception 'audit entry % does not match its content hash; it cannot be chained', bad using errcode = '42501';
      end if;
      -- The statement's own changes are visible here: a batch may link to entries it chains itself.
      select n.id into bad from new_rows n
       where n.prev_hash is distinct from case when n.seq = 1 then ${GENESIS} else (
               select a.hash from audit_log a
                where coalesce(a.organization_id, ${NO_ORG}) = coalesce(n.organization_id, ${NO_ORG}) and a.seq = n.seq - 1) end
       order by n.id limit 1;
      if found then
        raise exception 'audit entry %: its seq does not follow the head of its chain', bad using errcode = '42501';
      end if;
      select n.id into bad from new_rows n where n.hash is distinct from audit_entry_hash(n::audit_log) order by n.id limit 1;
      if found then
        raise exception 'audit entry %: wrong chain hash', bad using errcode = '42501';
      end if;
      return null;
    end $$;
    create trigger audit_no_update after update on audit_log referencing old table as old_rows new table as new_rows
      for each statement execute function audit_only_chaining();

    -- The sequencer: chains up to p_limit waiting entries in one transaction (all or nothing), with
    -- one UPDATE per batch. busy: another sequencer holds the lock (it is doing the work). refused:
    -- waiting entries whose content no longer matches their entry_hash; they stay unchained (verify
    -- names them, the lag alert fires) instead of being sealed into the chain with forged content.
    create or replace function audit_sequence(p_limit integer)
      returns table (chained integer, refused integer, busy boolean)
      language plpgsql security definer set search_path = public, pg_temp as $$
    declare
      r record;
      e audit_log;
      chain uuid;
      last_seq bigint;
      last_hash text;
      started boolean := false;
      ids bigint[] := '{}';
      seqs bigint[] := '{}';
      prevs text[] := '{}';
      hashes text[] := '{}';
    begin
      chained := 0; refused := 0; busy := false;
      if not pg_try_advisory_xact_lock(7063, 1) then
        busy := true;
        return next;
        return;
      end if;
      -- Refused entries are counted apart and never take a place in the batch, so however many
      -- there are, the entries behind them are still chained.
      select count(*)::integer into refused from audit_log a
       where a.seq is null and a.entry_hash is distinct from audit_content_hash(a);
      for r in
        select b.e from (
          select a as e, a.id, a.organization_id
            from audit_log a where a.seq is null and a.entry_hash is not distinct from audit_content_hash(a)
           order by a.id limit greatest(p_limit, 1)) b
         order by coalesce(b.organization_id, ${NO_ORG}), b.id
      loop
        e := r.e;
        if not started or chain is distinct from coalesce(e.organization_id, ${NO_ORG}) then
          started := true;
          chain := coalesce(e.organization_id, ${NO_ORG});
          select a.seq, a.hash into last_seq, last_hash from audit_log a
           where coalesce(a.organization_id, ${NO_ORG}) = chain and a.seq is not null
           order by coalesce(a.organization_id, ${NO_ORG}) desc, a.seq desc limit 1;
          last_seq := coalesce(last_seq, 0);
          last_hash := coalesce(last_hash, ${GENESIS});
        end if;
        e.seq := last_seq + 1;
        e.prev_hash := last_hash;
        e.hash := audit_entry_hash(e);
        ids := ids || e.id;
        seqs := seqs || e.seq;
        prevs := prevs || e.prev_hash;
        hashes := hashes || e.hash;
        last_seq := e.seq;
        last_hash := e.hash;
        chained := chained + 1;
      end loop;
      if chained > 0 then
        update audit_log a set seq = u.seq, prev_hash = u.prev_hash, hash = u.hash, chained_at = clock_timestamp()
          from unnest(ids, seqs, prevs, hashes) as u(id, seq, prev_hash, hash) where a.id = u.id;
      end if;
      return next;
    end $$;

    -- What waits for the sequencer (metric, verify): a count and the oldest entry's age; no content.
    create or replace function audit_waiting()
      returns table (waiting bigint, oldest_id bigint, oldest_seconds double precision)
      language sql stable security definer set search_path = public, pg_temp as $$
      select (select count(*) from audit_log where seq is null),
             o.id, extract(epoch from clock_timestamp() - o.created_at)::double precision
        from (select 1) one
        left join lateral (select a.id, a.created_at from audit_log a where a.seq is null order by a.id limit 1) o on true
    $$;

    -- The anchors cover the chained part only.
    create or replace function audit_chain_heads(p_orgs uuid[], p_seqs bigint[])
      returns table (organization_id uuid, head_seq bigint, head_hash text, anchored_seq bigint, anchored_hash text)
      language sql stable security definer set search_path = public, pg_temp as $$
      with known as (
        select k.org, k.seq from unnest(p_orgs, p_seqs) as k(org, seq)
      ), chains as (
        select o.id as org from organizations o
        union select null::uuid
        union select k.org from known k
      )
      select c.org, h.seq, h.hash, k.seq, kh.hash
        from chains c
        left join lateral (
          select a.seq, a.hash from audit_log a
           where coalesce(a.organization_id, ${NO_ORG}) = coalesce(c.org, ${NO_ORG}) and a.seq is not null
           order by coalesce(a.organization_id, ${NO_ORG}) desc, a.seq desc limit 1
        ) h on true
        left join known k on k.org is not distinct from c.org
        left join lateral (
          select a.hash from audit_log a
           where coalesce(a.organization_id, ${NO_ORG}) = coalesce(c.org, ${NO_ORG}) and a.seq = k.seq
        ) kh on true
       where h.seq is not null or k.seq is not null
    $$;

    revoke all on function audit_sequence(integer) from public;
    revoke all on function audit_waiting() from public;
    grant execute on function audit_sequence(integer), audit_waiting() to ${APP_ROLE};
  `);
}

export async function down(): Promise<void> {
  throw new Error('The audit sequencer migration cannot be rolled back: unchained entries would have no place in the old trigger; restore a backup instead');
}
