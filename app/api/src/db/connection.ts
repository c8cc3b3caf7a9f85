// Two database roles: the owner runs migrations; the API connects as a role with no BYPASSRLS
// that owns no tables. Every tenant query runs inside withScope(), which sets the organization
// for the transaction so PostgreSQL's row-level security applies. During an HTTP request, a
// withScope() for exactly the session's scope joins the request's transaction instead
// (db/request-transaction.ts); the CLI, jobs and every other scope get a transaction of their own.
import knexFactory, { type Knex } from 'knex';
import { joinRequestTransaction } from './request-transaction.ts';
import { rootLogger } from '../core/logger.ts';

export type Db = Knex;
export type Tx = Knex.Transaction;

export interface Scope {
  organizationId: string | null;
  userId?: string | null;
  platform?: boolean;
  /** Installation scope: operator grants and the installation audit chain (organization_id null). */
  installation?: boolean;
  /**
   * For transactions whose only write is the read-audit entry: commit without waiting for the
   * WAL flush. The entry is lost only if PostgreSQL itself crashes within ~0.6 s (3 × wal_writer_delay).
   */
  readOnly?: boolean;
}

export function createDb(connectionString: string, poolMax = 10): Db {
  return knexFactory({
    client: 'pg',
    connection: { connectionString, application_name: 'praxiskern' },
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 10_000,
    // knex would print its warnings (with a stack) on stdout: one line through the logger instead.
    log: {
      warn: (m: unknown) => rootLogger.warn({ knex: firstLine(m) }, 'database client warning'),
      error: (m: unknown) => rootLogger.error({ knex: firstLine(m) }, 'database client error'),
      deprecate: () => undefined,
      debug: () => undefined,
    },
  });
}

const firstLine = (m: unknown) => String(m instanceof Error ? m.message : m).split('\n')[0];

/** Runs fn in one transaction with the organization (and user) set for row-level security. */
export async function withScope<T>(db: Db, scope: Scope, fn: (trx: Tx) => Promise<T>): Promise<T> {
  const joined = joinRequestTransaction(db, scope);
  if (joined) return joined.run(fn);
  return db.transaction(async (trx) => {
    await trx.raw(
      "select set_config('app.org_id', ?, true), set_config('app.user_id', ?, true), set_config('app.platform', ?, true), set_config('synchronous_commit', ?, true), set_config('app.installation', ?, true)",
      [scope.organizationId ?? '', scope.userId ?? '', scope.platform ? 'on' : '', scope.readOnly ? 'off' : 'on', scope.installation ? 'on' : ''],
    );
    return fn(trx);
  });
}

/** Refuses to run the API on a role that could bypass row-level security. */
export async function assertAppRoleIsSafe(db: Db): Promise<void> {
  const { rows } = await db.raw(
    `select r.rolname, r.rolsuper, r.rolbypassrls,
            (select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
              where c.relowner = r.oid and n.nspname = 'public' and c.relkind in ('r','p'))::int as owned
       from pg_roles r where r.rolname = current_user`,
  );
  const r = rows[0];
  if (r.rolsuper || r.rolbypassrls || r.owned > 0) {
    throw new Error(
      `Database role "${r.rolname}" is unsafe for the API (superuser=${r.rolsuper}, bypassrls=${r.rolbypassrls}, owns ${r.owned} tables). ` +
        'Use the dedicated application role in DATABASE_URL.',
    );
  }
}
