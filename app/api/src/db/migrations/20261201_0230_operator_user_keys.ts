// Installation operators, two fixes of the security review:
// - is_installation_operator(uuid): an organization's user administration asks whether a target
//   account holds the installation role (the table itself is visible only in installation scope),
//   so an organization admin cannot reset, deactivate or re-role an operator.
// - installation_find_user(key) resolves a user like the sign-in does: an id, "name@org-slug", or a
//   plain "name" meaning the installation's first organization. For a plain name it also returns the
//   same-named accounts of other organizations, so the service can refuse the key as ambiguous
//   instead of picking one.
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function is_installation_operator(p_user uuid) returns boolean
      language sql stable security definer set search_path = public, pg_temp as
      $$ select exists (select 1 from installation_operators i where i.user_id = p_user) $$;
    revoke all on function is_installation_operator(uuid) from public;
    grant execute on function is_installation_operator(uuid) to ${APP_ROLE};

    create or replace function installation_find_user(p_key text)
      returns table (id uuid, organization_id uuid, active boolean)
      language sql stable security definer set search_path = public, pg_temp as $$
        with k as (
          select lower(p_key) as key,
                 case when strpos(p_key, '@') > 0 then lower(regexp_replace(p_key, '@[^@]*$', '')) else lower(p_key) end as name,
                 case when strpos(p_key, '@') > 0 then lower(regexp_replace(p_key, '^.*@', '')) end as slug
        ), first_org as (
          select o.id from organizations o order by o.created_at, o.id limit 1
        )
        select u.id, u.organization_id, u.active
          from k, users u join organizations o on o.id = u.organization_id
         where app_installation()
           and (u.id::text = k.key
                or (k.slug is not null and u.username = k.name and o.slug = k.slug)
                or (k.slug is null and u.username = k.name
                    and exists (select 1 from users f where f.username = k.name and f.organization_id = (select id from first_org))))
         order by (u.organization_id = (select id from first_org)) desc, u.id
      $$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop function if exists is_installation_operator(uuid);
    create or replace function installation_find_user(p_key text)
      returns table (id uuid, organization_id uuid, active boolean)
      language sql stable security definer set search_path = public, pg_temp as
      $$ select u.id, u.organization_id, u.active from users u
          where app_installation() and (u.id::text = p_key or u.username = lower(p_key)) $$;
  `);
}
