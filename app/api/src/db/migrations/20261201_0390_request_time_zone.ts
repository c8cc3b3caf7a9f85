// The organization's time zone travels with the request (from the one statement that authenticates
// it, no extra round trip): "today" for validation (a birth or treatment date must not lie in the
// future) and for ages is the practice's calendar day, not UTC's — just after midnight in Berlin,
// UTC is still in the day before. auth_request_scope() gains the column time_zone; the rest of
// the function is unchanged (20261201_0210_request_scope).
import type { Knex } from 'knex';
import * as before from './20261201_0210_request_scope.ts';

const APP_ROLE = 'praxiskern_app';

export async function up(knex: Knex): Promise<void> {
  // A function's result columns cannot be changed in place.
  await knex.raw('drop function auth_request_scope(bytea, integer)');
  await knex.raw(`
    create function auth_request_scope(p_token_hash bytea, p_idle_minutes integer)
      returns table (id uuid, organization_id uuid, user_id uuid, csrf_token text, auth_method text, roles text[],
                     is_operator boolean, time_zone text)
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
             exists (select 1 from installation_operators o where o.user_id = ss.user_id) as is_operator,
             org.time_zone
        into s
        from sessions ss join users u on u.id = ss.user_id and u.organization_id = ss.organization_id
        join organizations org on org.id = ss.organization_id
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
      return query select s.id, s.organization_id, s.user_id, s.csrf_token, s.auth_method, s.roles, s.is_operator, s.time_zone;
    end
    $$;
    revoke all on function auth_request_scope(bytea, integer) from public;
    grant execute on function auth_request_scope(bytea, integer) to ${APP_ROLE};
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function auth_request_scope(bytea, integer)');
  await before.up(knex);
}
