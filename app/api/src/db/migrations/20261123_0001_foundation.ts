// Foundation schema: organizations, users, sessions, key store, audit log, rate limits.
// RLS policies and grants live here, next to the tables they protect.
import type { Knex } from 'knex';

export const APP_ROLE = 'praxiskern_app';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create or replace function app_org() returns uuid language sql stable as
      $$ select nullif(current_setting('app.org_id', true), '')::uuid $$;
    create or replace function app_is_platform() returns boolean language sql stable as
      $$ select coalesce(current_setting('app.platform', true), '') = 'on' $$;

    create table installation (
      id smallint primary key default 1 check (id = 1),
      installation_id uuid not null default gen_random_uuid(),
      initialized_at timestamptz,
      created_at timestamptz not null default now()
    );

    create table organizations (
      id uuid primary key default gen_random_uuid(),
      name text not null check (length(name) between 1 and 200),
      slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
      active boolean not null default true,
      created_at timestamptz not null default now()
    );
    alter table organizations enable row level security;
    alter table organizations force row level security;
    create policy organizations_isolation on organizations
      using (id = app_org() or app_is_platform())
      with check (id = app_org() or app_is_platform());

    create table users (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      username text unique check (username ~ '^[a-z0-9._-]{3,64}$'),
      display_name text not null check (length(display_name) between 1 and 200),
      email text check (length(email) <= 320),
      oidc_issuer text,
      oidc_subject text,
      password_hash text,
      totp_secret bytea,
      totp_confirmed boolean not null default false,
      recovery_codes jsonb not null default '[]',
      roles text[] not null default '{}',
      locale text not null default 'de' check (locale in ('de','en')),
      active boolean not null default true,
      failed_attempts int not null default 0,
      locked_until timestamptz,
      last_login_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (oidc_issuer, oidc_subject),
      check (roles <@ array['admin','coordinator','doctor','finance','platform_owner','staff']::text[])
    );
    create index users_org on users(organization_id);

    create table sessions (
      id uuid primary key default gen_random_uuid(),
      token_hash bytea not null unique,
      organization_id uuid not null references organizations(id),
      user_id uuid not null references users(id),
      csrf_token text not null,
      auth_method text not null check (auth_method in ('local','oidc','setup')),
      oidc_issuer text,
      oidc_sid text,
      roles text[] not null,
      ip text,
      user_agent text,
      created_at timestamptz not null default now(),
      last_seen_at timestamptz not null default now(),
      idle_expires_at timestamptz not null,
      absolute_expires_at timestamptz not null
    );
    create index sessions_user on sessions(user_id);
    create index sessions_oidc_sid on sessions(oidc_issuer, oidc_sid);

    create table seal_config (
      id smallint primary key default 1 check (id = 1),
      kdf jsonb not null,
      salt bytea not null,
      wrapped_master_key bytea not null,
      created_at timestamptz not null default now(),
      rotated_at timestamptz
    );

    create table data_keys (
      id uuid primary key default gen_random_uuid(),
      organization_id uuid not null references organizations(id),
      scope text not null check (scope ~ '^[a-z_]{1,40}$'),
      scope_id uuid not null,
      wrapped_key bytea,
      created_at timestamptz not null default now(),
      destroyed_at timestamptz,
      unique (organization_id, scope, scope_id)
    );

    create table rate_limits (
      bucket text primary key,
      failures int not null default 0,
      window_started_at timestamptz not null default now(),
      locked_until timestamptz
    );

    create table audit_log (
      id bigserial primary key,
      organization_id uuid references organizations(id),
      seq bigint not null,
      created_at timestamptz not null default clock_timestamp(),
      actor_user_id uuid,
      action text not null check (length(action) <= 100),
      object_type text check (length(object_type) <= 100),
      object_id text check (length(object_id) <= 200),
      outcome text not null check (outcome in ('success','denied','failure')),
      request_id text check (length(request_id) <= 100),
      ip text check (length(ip) <= 100),
      user_agent text,
      details jsonb not null default '{}',
      prev_hash text not null,
      hash text not null
    );
    create unique index audit_log_chain on audit_log (coalesce(organization_id, '00000000-0000-0000-0000-000000000000'::uuid), seq);
    create index audit_log_object on audit_log (organization_id, object_type, object_id);

    -- The canonical text of an entry; the trigger hashes it and "praxiskern audit verify" recomputes it.
    create or replace function audit_entry_hash(r audit_log) returns text language sql immutable as $$
      select encode(sha256(convert_to(concat_ws('|',
        coalesce(r.organization_id::text, '-'), r.seq::text, r.prev_hash,
        (extract(epoch from r.created_at) * 1000000)::bigint::text,
        coalesce(r.actor_user_id::text, '-'), r.action, coalesce(r.object_type, '-'), coalesce(r.object_id, '-'),
        r.outcome, coalesce(r.request_id, '-'), coalesce(r.ip, '-'), coalesce(r.user_agent, '-'), r.details::text
      ), 'UTF8')), 'hex')
    $$;

    create or replace function audit_chain() returns trigger language plpgsql security definer
      set search_path = public, pg_temp as $$
    declare
      last record;
    begin
      perform pg_advisory_xact_lock(7061, hashtext(coalesce(new.organization_id::text, '-')));
      -- The previous entry, found through the unique index audit_log_chain (an index probe, not a scan).
      select a.seq, a.hash into last from audit_log a
        where coalesce(a.organization_id, '00000000-0000-0000-0000-000000000000'::uuid)
            = coalesce(new.organization_id, '00000000-0000-0000-0000-000000000000'::uuid)
        order by coalesce(a.organization_id, '00000000-0000-0000-0000-000000000000'::uuid) desc, a.seq desc limit 1;
      new.seq := coalesce(last.seq, 0) + 1;
      new.prev_hash := coalesce(last.hash, repeat('0', 64));
      new.created_at := clock_timestamp();
      new.hash := audit_entry_hash(new);
      return new;
    end $$;
    create trigger audit_chain before insert on audit_log for each row execute function audit_chain();

    create or replace function audit_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is append-only' using errcode = '42501';
    end $$;
    create trigger audit_no_update before update or delete on audit_log for each row execute function audit_append_only();
    create trigger audit_no_truncate before truncate on audit_log for each statement execute function audit_append_only();

    alter table audit_log enable row level security;
    alter table audit_log force row level security;
    create policy audit_read on audit_log for select using (organization_id = app_org());
    create policy audit_insert on audit_log for insert
      with check (organization_id is not distinct from app_org() or organization_id is null);
  `);

  for (const table of ['users', 'sessions', 'data_keys']) {
    await knex.raw(`
      alter table ${table} enable row level security;
      alter table ${table} force row level security;
      create policy ${table}_isolation on ${table}
        using (organization_id = app_org()) with check (organization_id = app_org());
    `);
  }

  // Narrow doors for look-ups that happen before the organization is known (login, session
  // cookie, back-channel logout). They run as the owner and return only what the caller needs.
  await knex.raw(`
    create or replace function auth_find_local_user(p_username text)
      returns table (id uuid, organization_id uuid) language sql stable security definer
      set search_path = public, pg_temp as
      $$ select u.id, u.organization_id from users u where u.username = lower(p_username) $$;
    create or replace function auth_find_oidc_user(p_issuer text, p_subject text)
      returns table (id uuid, organization_id uuid) language sql stable security definer
      set search_path = public, pg_temp as
      $$ select u.id, u.organization_id from users u where u.oidc_issuer = p_issuer and u.oidc_subject = p_subject $$;
    create or replace function auth_find_session(p_token_hash bytea)
      returns table (id uuid, organization_id uuid, user_id uuid) language sql stable security definer
      set search_path = public, pg_temp as
      $$ select s.id, s.organization_id, s.user_id from sessions s where s.token_hash = p_token_hash $$;
    -- One round trip per request: the session, its user's state and roles.
    create or replace function auth_session_actor(p_token_hash bytea)
      returns table (id uuid, organization_id uuid, user_id uuid, csrf_token text, auth_method text, roles text[],
                     idle_expires_at timestamptz, absolute_expires_at timestamptz, user_active boolean, user_roles text[])
      language sql stable security definer set search_path = public, pg_temp as
      $$ select s.id, s.organization_id, s.user_id, s.csrf_token, s.auth_method, s.roles, s.idle_expires_at,
                s.absolute_expires_at, u.active, u.roles
           from sessions s join users u on u.id = s.user_id and u.organization_id = s.organization_id
          where s.token_hash = p_token_hash $$;
    create or replace function auth_find_oidc_sessions(p_issuer text, p_sid text, p_subject text)
      returns table (id uuid, organization_id uuid, user_id uuid) language sql stable security definer
      set search_path = public, pg_temp as
      $$ select s.id, s.organization_id, s.user_id from sessions s join users u on u.id = s.user_id
           where s.oidc_issuer = p_issuer and (s.oidc_sid = p_sid or (p_sid is null and u.oidc_subject = p_subject)) $$;
    create or replace function org_count() returns bigint language sql stable security definer
      set search_path = public, pg_temp as $$ select count(*) from organizations $$;
  `);

  await knex.raw(`
    revoke all on all tables in schema public from public;
    grant usage on schema public to ${APP_ROLE};
    grant select, insert, update on installation, organizations, seal_config to ${APP_ROLE};
    grant select, insert, update, delete on users, sessions, data_keys, rate_limits to ${APP_ROLE};
    grant select, insert on audit_log to ${APP_ROLE};
    grant usage on sequence audit_log_id_seq to ${APP_ROLE};
    grant execute on all functions in schema public to ${APP_ROLE};
  `);
}

export async function down(): Promise<void> {
  throw new Error('The foundation migration cannot be rolled back; restore a backup instead');
}
