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
// The append-only trigger allows exactly one kind of UPDATE: filling seq, prev_hash, hash and
// chained_at of an unchained entry whose content still matches its entry_hash, with the correct
// link to the chain's previous entry. Everything else (any other update, delete, truncate) raises.
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

    -- Same name as before (tests and runbooks refer to it): append-only, except the chaining itself.
    create or replace function audit_append_only_but_chaining() returns trigger language plpgsql
      set search_path = public, pg_temp as $$
    declare
      was audit_log := old;
      now_ audit_log := new;
      link text;
    begin
      if tg_op <> 'UPDATE' or old.seq is not null or new.seq is null or new.seq < 1 then
        raise exception 'audit_log is append-only' using errcode = '42501';
      end if;
      now_.seq := null; now_.prev_hash := null; now_.hash := null; now_.chained_at := null;
      was.chained_at := null;
      if now_ is distinct from was then
        raise exception 'audit_log is append-only (chaining may set seq, prev_hash, hash only)' using errcode = '42501';
      end if;
      if new.entry_hash is distinct from audit_content_hash(new) then
        raise exception 'audit entry % does not match its content hash; it cannot be chained', new.id using errcode = '42501';
      end if;
      if new.seq = 1 then
        link := ${GENESIS};
      else
        select a.hash into link from audit_log a
         where coalesce(a.organization_id, ${NO_ORG}) = coalesce(new.organization_id, ${NO_ORG}) and a.seq = new.seq - 1;
      end if;
      if link is null or link <> new.prev_hash then
        raise exception 'audit entry %: seq % does not follow the head of its chain', new.id, new.seq using errcode = '42501';
      end if;
      if new.hash is distinct from audit_entry_hash(new) then
        raise exception 'audit entry %: wrong chain hash', new.id using errcode = '42501';
      end if;
      return new;
    end $$;
    drop trigger audit_no_update on audit_log;
    create trigger audit_no_update before update or delete on audit_log for each row execute function audit_append_only_but_chaining();

    -- The sequencer: chains up to p_limit waiting entries in one transaction (all or nothing).
    -- busy: another sequencer holds the lock (it is doing the work). refused: waiting entries whose
    -- content no longer matches their entry_hash; they stay unchained (verify names them, the lag
    -- alert fires) instead of being sealed into the chain with forged content.
    create or replace function audit_sequence(p_limit integer)
      returns table (chained integer, refused integer, busy boolean)
      language plpgsql security definer set search_path = public, pg_temp as $$
    declare
      r audit_log;
      chain uuid;
      last_seq bigint;
      last_hash text;
      started boolean := false;
    begin
      chained := 0; refused := 0; busy := false;
      if not pg_try_advisory_xact_lock(7063, 1) then
        busy := true;
        return next;
        return;
      end if;
      for r in
        select b.* from (select a.* from audit_log a where a.seq is null order by a.id limit greatest(p_limit, 1)) b
         order by coalesce(b.organization_id, ${NO_ORG}), b.id
      loop
        if r.entry_hash is distinct from audit_content_hash(r) then
          refused := refused + 1;
          continue;
        end if;
        if not started or chain is distinct from coalesce(r.organization_id, ${NO_ORG}) then
          started := true;
          chain := coalesce(r.organization_id, ${NO_ORG});
          select a.seq, a.hash into last_seq, last_hash from audit_log a
           where coalesce(a.organization_id, ${NO_ORG}) = chain and a.seq is not null
           order by coalesce(a.organization_id, ${NO_ORG}) desc, a.seq desc limit 1;
          last_seq := coalesce(last_seq, 0);
          last_hash := coalesce(last_hash, ${GENESIS});
        end if;
        r.seq := last_seq + 1;
        r.prev_hash := last_hash;
        r.hash := audit_entry_hash(r);
        update audit_log set seq = r.seq, prev_hash = r.prev_hash, hash = r.hash, chained_at = clock_timestamp() where id = r.id;
        last_seq := r.seq;
        last_hash := r.hash;
        chained := chained + 1;
      end loop;
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
