// Creates the owner and application roles and the database, given a superuser connection.
// Used by the embedded PostgreSQL launcher, tests and the compose bundle's init container.
import pg from 'pg';

export interface RoleSecrets {
  ownerPassword: string;
  appPassword: string;
}

export const OWNER_ROLE = 'praxiskern_owner';
export const APP_ROLE = 'praxiskern_app';

function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export async function provisionDatabase(superuserUrl: string, database: string, secrets: RoleSecrets): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(database)) throw new Error(`invalid database name ${database}`);
  const admin = new pg.Client({ connectionString: superuserUrl });
  await admin.connect();
  try {
    // Roles are cluster-wide: concurrent provisioning (parallel test workers) would otherwise race
    // on ALTER ROLE ("tuple concurrently updated"). The lock ends with the connection.
    await admin.query('select pg_advisory_lock(7062)');
    for (const [role, password, extra] of [
      [OWNER_ROLE, secrets.ownerPassword, 'BYPASSRLS'],
      [APP_ROLE, secrets.appPassword, 'NOBYPASSRLS'],
    ] as const) {
      const exists = await admin.query('select 1 from pg_roles where rolname = $1', [role]);
      const verb = exists.rowCount ? 'ALTER' : 'CREATE';
      await admin.query(`${verb} ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE ${extra} PASSWORD ${quoteLiteral(password)}`);
    }
    // "<name>_drill" is the scratch database of the weekly restore drill (the owner may not create databases).
    for (const name of [database, `${database}_drill`]) {
      const db = await admin.query('select 1 from pg_database where datname = $1', [name]);
      if (!db.rowCount) await admin.query(`CREATE DATABASE ${name} OWNER ${OWNER_ROLE} ENCODING 'UTF8' TEMPLATE template0`);
      await admin.query(`REVOKE ALL ON DATABASE ${name} FROM PUBLIC`);
    }
    await admin.query(`GRANT CONNECT ON DATABASE ${database} TO ${APP_ROLE}`);
  } finally {
    await admin.end();
  }
  for (const name of [database, `${database}_drill`]) {
    const inDb = new pg.Client({ connectionString: withDatabase(superuserUrl, name) });
    await inDb.connect();
    try {
      await inDb.query(`ALTER SCHEMA public OWNER TO ${OWNER_ROLE}`);
      await inDb.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    } finally {
      await inDb.end();
    }
  }
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export function withCredentials(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  return u.toString();
}
