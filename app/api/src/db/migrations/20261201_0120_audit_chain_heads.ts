// The head of every audit chain for the anchor writer (docs/security-model.md, "Accountability").
// The API role reads audit_log only for its own organization; this narrow door returns, for every
// chain, the newest seq and hash, and the hash at the seq the caller last anchored — no content.
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';
const NO_ORG = `'00000000-0000-0000-0000-000000000000'::uuid`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
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
           where coalesce(a.organization_id, ${NO_ORG}) = coalesce(c.org, ${NO_ORG})
           order by coalesce(a.organization_id, ${NO_ORG}) desc, a.seq desc limit 1
        ) h on true
        left join known k on k.org is not distinct from c.org
        left join lateral (
          select a.hash from audit_log a
           where coalesce(a.organization_id, ${NO_ORG}) = coalesce(c.org, ${NO_ORG}) and a.seq = k.seq
        ) kh on true
       where h.seq is not null or k.seq is not null
    $$;
    revoke all on function audit_chain_heads(uuid[], bigint[]) from public;
    grant execute on function audit_chain_heads(uuid[], bigint[]) to ${APP_ROLE};
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function if exists audit_chain_heads(uuid[], bigint[])');
}
