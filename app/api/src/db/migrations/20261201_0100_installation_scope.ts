// Two scopes of power: who holds the installation role "operator" (seal, passphrase, backups,
// recovery kit, restore, organizations, operator grants), and the installation audit chain
// (audit_log rows with organization_id null), readable only in installation scope.
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create or replace function app_installation() returns boolean language sql stable as
      $$ select coalesce(current_setting('app.installation', true), '') = 'on' $$;

    create table installation_operators (
      user_id uuid primary key references users(id),
      granted_by uuid references users(id),
      granted_at timestamptz not null default now()
    );
    alter table installation_operators enable row level security;
    alter table installation_operators force row level security;
    create policy installation_operators_scope on installation_operators
      using (app_installation()) with check (app_installation());
    grant select, insert, delete on installation_operators to ${APP_ROLE};

    -- The installation chain is read in installation scope only, never through an organization.
    create policy audit_read_installation on audit_log for select using (organization_id is null and app_installation());

    -- An installation that was set up before this migration: its first organization's active
    -- administrators held these powers already and keep them; nobody else gains any.
    insert into installation_operators (user_id)
      select u.id from users u
       where u.active and 'admin' = any(u.roles)
         and u.organization_id = (select o.id from organizations o order by o.created_at, o.id limit 1);

    -- The per-request session look-up also answers whether the user is an operator (one round trip).
    drop function auth_session_actor(bytea);
    create function auth_session_actor(p_token_hash bytea)
      returns table (id uuid, organization_id uuid, user_id uuid, csrf_token text, auth_method text, roles text[],
                     idle_expires_at timestamptz, absolute_expires_at timestamptz, user_active boolean, user_roles text[],
                     is_operator boolean)
      language sql stable security definer set search_path = public, pg_temp as
      $$ select s.id, s.organization_id, s.user_id, s.csrf_token, s.auth_method, s.roles, s.idle_expires_at,
                s.absolute_expires_at, u.active, u.roles,
                exists (select 1 from installation_operators o where o.user_id = s.user_id)
           from sessions s join users u on u.id = s.user_id and u.organization_id = s.organization_id
          where s.token_hash = p_token_hash $$;
    revoke all on function auth_session_actor(bytea) from public;
    grant execute on function auth_session_actor(bytea) to ${APP_ROLE};

    -- Operators across organizations, and a user of any organization by id or username: only
    -- in installation scope (the caller's service has checked installation.operators first).
    create function installation_operator_list()
      returns table (user_id uuid, organization_id uuid, organization_name text, username text, display_name text,
                     active boolean, granted_by uuid, granted_at timestamptz)
      language sql stable security definer set search_path = public, pg_temp as
      $$ select u.id, u.organization_id, o.name, u.username, u.display_name, u.active, i.granted_by, i.granted_at
           from installation_operators i join users u on u.id = i.user_id join organizations o on o.id = u.organization_id
          where app_installation() order by i.granted_at, u.id $$;
    create function installation_find_user(p_key text)
      returns table (id uuid, organization_id uuid, active boolean)
      language sql stable security definer set search_path = public, pg_temp as
      $$ select u.id, u.organization_id, u.active from users u
          where app_installation() and (u.id::text = p_key or u.username = lower(p_key)) $$;
    revoke all on function installation_operator_list(), installation_find_user(text) from public;
    grant execute on function installation_operator_list(), installation_find_user(text), app_installation() to ${APP_ROLE};
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop function if exists installation_operator_list();
    drop function if exists installation_find_user(text);
    drop policy if exists audit_read_installation on audit_log;
    drop function auth_session_actor(bytea);
    create function auth_session_actor(p_token_hash bytea)
      returns table (id uuid, organization_id uuid, user_id uuid, csrf_token text, auth_method text, roles text[],
                     idle_expires_at timestamptz, absolute_expires_at timestamptz, user_active boolean, user_roles text[])
      language sql stable security definer set search_path = public, pg_temp as
      $$ select s.id, s.organization_id, s.user_id, s.csrf_token, s.auth_method, s.roles, s.idle_expires_at,
                s.absolute_expires_at, u.active, u.roles
           from sessions s join users u on u.id = s.user_id and u.organization_id = s.organization_id
          where s.token_hash = p_token_hash $$;
    grant execute on function auth_session_actor(bytea) to ${APP_ROLE};
    drop table if exists installation_operators;
    drop function if exists app_installation();
  `);
}
