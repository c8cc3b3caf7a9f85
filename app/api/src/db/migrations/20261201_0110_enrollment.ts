// One-time enrollment links (issue 8, item 2) and organization-scoped usernames.
// - enrollments: one pending link per user; only the SHA-256 of the token is stored; a new link
//   replaces the old one (primary key on user_id); RLS per organization like users.
// - usernames are unique per organization, so creating an account never reveals whether a name
//   exists in another organization. Sign-in names are "name" (the installation's first
//   organization) or "name@organization-slug"; auth_resolve_login maps both to one account key.
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table users drop constraint users_username_key;
    alter table users add constraint users_org_username_key unique (organization_id, username);

    create table enrollments (
      user_id uuid primary key references users(id) on delete cascade,
      organization_id uuid not null references organizations(id),
      token_hash bytea not null unique,
      expires_at timestamptz not null,
      created_by uuid,
      created_at timestamptz not null default now()
    );
    alter table enrollments enable row level security;
    alter table enrollments force row level security;
    create policy enrollments_isolation on enrollments
      using (organization_id = app_org()) with check (organization_id = app_org());
    grant select, insert, update, delete on enrollments to ${APP_ROLE};

    -- Redeeming a link happens before any organization is known: the narrow door returns the
    -- user and organization of a token hash, nothing else.
    create or replace function auth_find_enrollment(p_token_hash bytea)
      returns table (user_id uuid, organization_id uuid) language sql stable security definer
      set search_path = public, pg_temp as
      $$ select e.user_id, e.organization_id from enrollments e where e.token_hash = p_token_hash $$;

    -- A sign-in name without "@slug" means the installation's first organization (the one the
    -- first-run setup created). The account key is the same for both spellings of one account
    -- and for names that do not exist, so throttling looks identical for both.
    create or replace function auth_resolve_login(p_username text, p_org_slug text)
      returns table (account_key text, id uuid, organization_id uuid) language sql stable security definer
      set search_path = public, pg_temp as $$
        with org as (
          select o.id, o.slug from organizations o
           where (p_org_slug is null and o.id = (select p.id from organizations p order by p.created_at, p.id limit 1))
              or (p_org_slug is not null and o.slug = lower(p_org_slug))
        )
        select coalesce((select slug from org), lower(p_org_slug), '-') || '/' || lower(p_username),
               u.id, u.organization_id
          from (select 1) one
          left join users u on u.username = lower(p_username) and u.organization_id = (select id from org)
      $$;

    drop function auth_find_local_user(text);
    revoke all on function auth_find_enrollment(bytea) from public;
    revoke all on function auth_resolve_login(text, text) from public;
    grant execute on function auth_find_enrollment(bytea) to ${APP_ROLE};
    grant execute on function auth_resolve_login(text, text) to ${APP_ROLE};
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop function if exists auth_resolve_login(text, text);
    drop function if exists auth_find_enrollment(bytea);
    drop table if exists enrollments;
    create or replace function auth_find_local_user(p_username text)
      returns table (id uuid, organization_id uuid) language sql stable security definer
      set search_path = public, pg_temp as
      $$ select u.id, u.organization_id from users u where u.username = lower(p_username) $$;
    grant execute on function auth_find_local_user(text) to ${APP_ROLE};
    alter table users drop constraint users_org_username_key;
    alter table users add constraint users_username_key unique (username);
  `);
}
