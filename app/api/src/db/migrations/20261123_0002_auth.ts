// Authentication: TOTP replay prevention and the narrow pre-login door for OIDC provisioning.
import type { Knex } from 'knex';

const APP_ROLE = 'praxiskern_app';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    -- The last accepted TOTP time step: a code is accepted only for a later step (no replay).
    alter table users add column totp_last_step bigint;

    -- Where just-in-time OIDC provisioning puts a new user: the configured organization if it
    -- exists and is active, else the only active one. Returns the id (or null) and the count.
    create or replace function auth_provisioning_organization(p_configured uuid)
      returns table (organization_id uuid, active_count bigint) language sql stable security definer
      set search_path = public, pg_temp as $$
        select case when p_configured is not null
                    then (select o.id from organizations o where o.id = p_configured and o.active)
                    else (select o.id from organizations o where o.active order by o.created_at limit 1) end,
               (select count(*) from organizations o where o.active)
      $$;
    revoke all on function auth_provisioning_organization(uuid) from public;
    grant execute on function auth_provisioning_organization(uuid) to ${APP_ROLE};
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop function if exists auth_provisioning_organization(uuid);
    alter table users drop column if exists totp_last_step;
  `);
}
