// Issue 9, item 2: one statement authenticates a request and scopes its transaction. The session
// cookie's hash is checked (idle and absolute timeout, active user, unchanged roles), the idle
// timeout is extended at most once a minute (not waiting for a parallel request of the same
// session that holds the row), and app.org_id / app.user_id are set for the rest of
// the caller's transaction (set_config(…, true)), so row-level security applies from the next
// statement on. A session that is no longer valid is deleted and nothing is returned.
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function auth_request_scope(p_token_hash bytea, p_idle_minutes integer)
      returns table (id uuid, organization_id uuid, user_id uuid, csrf_token text, auth_method text, roles text[],
                     is_operator boolean)
      language plpgsql volatile security definer set search_path = public, pg_temp as
    $$
    declare
      s record;
      v_idle timestamptz := now() + make_interval(mins => p_idle_minutes);
    begin
      select ss.id, ss.organization_id, ss.user_id, ss.csrf_token, ss.auth_method, ss.roles, ss.idle_expires_at,
             ss.absolute_expires_at, u.active as user_active,
             (select coalesce(array_agg(r order by r), '{}') from unnest(ss.roles) r)
               is not distinct from (select coalesce(array_agg(r order by r), '{}') from unnest(u.roles) r) as same_roles,
             exists (select 1 from installation_operators o where o.user_id = ss.user_id) as is_operator
        into s
        from sessions ss join users u on u.id = ss.user_id and u.organization_id = ss.organization_id
       where ss.token_hash = p_token_hash;
      if not found then
        return;
      end if;
      -- The caller's transaction is scoped to the session's organization and user from here on.
      perform set_config('app.org_id', s.organization_id::text, true),
              set_config('app.user_id', s.user_id::text, true),
              set_config('app.platform', '', true),
              set_config('app.installation', '', true);
      if not s.user_active or s.idle_expires_at < now() or s.absolute_expires_at < now() or not s.same_roles then
        delete from sessions where sessions.id = s.id;
        perform set_config('app.org_id', '', true), set_config('app.user_id', '', true);
        return;
      end if;
      -- The row lock of the touch lasts until the request's transaction ends: a request of the same
      -- session that is touching it already is not waited for (skip locked).
      if v_idle - s.idle_expires_at > interval '1 minute' then
        update sessions set last_seen_at = now(), idle_expires_at = v_idle
         where sessions.id = (select l.id from sessions l where l.id = s.id for update skip locked);
      end if;
      return query select s.id, s.organization_id, s.user_id, s.csrf_token, s.auth_method, s.roles, s.is_operator;
    end
    $$;
    revoke all on function auth_request_scope(bytea, integer) from public;
    grant execute on function auth_request_scope(bytea, integer) to ${APP_ROLE};
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function if exists auth_request_scope(bytea, integer)');
}
