// One transaction per HTTP request (issue 9, item 2). The router opens it with BEGIN and the
// session statement in one round trip (that statement also scopes it to the session's
// organization and user); services join it through withScope() when they ask for exactly that
// scope; audit entries queued on it are written in the round trip of its COMMIT, so they still
// commit or roll back with the read or change they record. docs/architecture.md counts the trips.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import type { Knex } from 'knex';
import type pg from 'pg';
import type { Db, Scope, Tx } from './connection.ts';

/** The part of knex's PostgreSQL transaction class (knex 3) that RequestTransaction overrides or calls. */
interface KnexPgTransaction extends PromiseLike<unknown> {
  _completed: boolean;
  _resolver(value?: unknown): void;
  _rejecter(error: unknown): void;
  begin(conn: pg.Client): Promise<unknown>;
  commit(conn: pg.Client, value?: unknown): Promise<unknown>;
  rollback(conn: pg.Client, error?: unknown): Promise<unknown>;
}
type KnexPgTransactionClass = new (client: Knex.Client, container: (trx: Tx) => Promise<unknown>) => KnexPgTransaction;
const PgTransaction = createRequire(import.meta.url)('knex/lib/dialects/postgres/execution/pg-transaction.js') as KnexPgTransactionClass;

/** The scope the session bound: an organization and a user, never platform or installation. */
export interface RequestScope {
  organizationId: string;
  userId: string;
}

interface State {
  db: Db;
  trx: Tx | undefined;
  scope: RequestScope | undefined;
  /** A joined withScope() asked for a write scope: commit waits for the WAL flush (see Scope.readOnly). */
  writes: boolean;
  /** Joined withScope() calls still running; a write scope commits when the last one returns. */
  depth: number;
  end: () => Promise<void>;
  /** Statements written with the COMMIT, in order (audit entries). */
  deferred: Knex.SqlNative[];
  /** The first error a joined withScope() threw: the request rolls back even if a caller caught it. */
  failure: { error: unknown } | undefined;
}

const store = new AsyncLocalStorage<State>();
const byTrx = new WeakMap<Tx, State>();

type Row = Record<string, unknown>;

async function rollbackQuietly(conn: pg.Client): Promise<void> {
  await conn.query('ROLLBACK').catch(() => undefined);
}

class RequestTransaction extends PgTransaction {
  opening = '';
  openingRows: Row[] = [];
  prelude: (conn: pg.Client) => string = () => '';
  #conn: pg.Client | undefined;
  /** Committed (or rolled back after a failed commit) before the request's work ended. */
  #ended = false;

  override begin(conn: pg.Client): Promise<unknown> {
    this.#conn = conn;
    // Simple-query protocol: BEGIN and the opening statement travel together.
    return (conn.query(`BEGIN; ${this.opening}`) as unknown as Promise<pg.QueryResult[]>).then(
      (results) => {
        this.openingRows = results[results.length - 1].rows;
      },
      async (err) => {
        await rollbackQuietly(conn);
        throw err;
      },
    );
  }

  /**
   * Sends the deferred statements and COMMIT in one round trip. A failing statement skips the rest
   * of the string, COMMIT included: the transaction is rolled back and the error thrown. Either
   * way no further query runs in this transaction.
   */
  async end(): Promise<void> {
    const conn = this.#conn!;
    this._completed = true;
    this.#ended = true;
    const prelude = this.prelude(conn);
    try {
      await conn.query(prelude ? `${prelude}; COMMIT` : 'COMMIT');
    } catch (err) {
      await rollbackQuietly(conn);
      throw err;
    }
  }

  override commit(_conn: pg.Client, value?: unknown): Promise<unknown> {
    if (this.#ended) return Promise.resolve(this._resolver(value));
    return this.end().then(() => this._resolver(value), (err: unknown) => this._rejecter(err));
  }

  override rollback(conn: pg.Client, error?: unknown): Promise<unknown> {
    if (this.#ended) return Promise.resolve(this._rejecter(error));
    return super.rollback(conn, error);
  }
}

/** A literal for a deferred statement's binding (pg's own escaping; only these types occur). */
function literal(conn: pg.Client, v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'string') return conn.escapeLiteral(v);
  throw new TypeError(`a deferred statement cannot carry a ${typeof v} value`);
}

function inline(conn: pg.Client, q: Knex.SqlNative): string {
  return q.sql.replace(/\$(\d+)/g, (_, n: string) => literal(conn, q.bindings[Number(n) - 1]));
}

function prelude(state: State, conn: pg.Client): string {
  const parts = state.writes ? [] : ['set local synchronous_commit = off'];
  for (const q of state.deferred) parts.push(inline(conn, q));
  return parts.join('; ');
}

/**
 * Runs body in one transaction opened by `opening` (a statement without parameters) in the round
 * trip of BEGIN. body gets the opening's rows and binds the request scope once; the transaction
 * commits when body resolves and rolls back when it throws.
 */
export function requestTransaction<T>(db: Db, opening: string, body: (rows: Row[], bind: (scope: RequestScope) => void) => Promise<T>): Promise<T> {
  const state: State = { db, trx: undefined, scope: undefined, writes: false, depth: 0, end: () => tx.end(), deferred: [], failure: undefined };
  const bind = (scope: RequestScope) => {
    if (state.scope) throw new Error('the request scope is bound once');
    state.scope = { organizationId: scope.organizationId, userId: scope.userId };
  };
  const tx: RequestTransaction = new RequestTransaction(db.client, (trx: Tx) => {
    state.trx = trx;
    byTrx.set(trx, state);
    return store.run(state, async () => {
      const result = await body(tx.openingRows, bind);
      if (state.failure) throw state.failure.error;
      return result;
    });
  });
  tx.opening = opening;
  tx.prelude = (conn) => prelude(state, conn);
  return Promise.resolve(tx).then((v) => v as T);
}

export interface Joined {
  run<T>(fn: (trx: Tx) => Promise<T>): Promise<T>;
}

function sameScope(bound: RequestScope, scope: Scope): boolean {
  return !scope.platform && !scope.installation && scope.organizationId === bound.organizationId && (scope.userId ?? null) === bound.userId;
}

/**
 * The request's transaction, when the caller asks for exactly the scope the session bound on the
 * same database. Any other scope (another organization, platform, installation) gets a
 * transaction of its own: joining never changes the request transaction's scope.
 *
 * A read scope (Scope.readOnly) stays open until the request ends. A write scope commits when it
 * returns, as withScope() always did: a service that writes files or deletes blobs after it
 * returns still acts on a committed change; later scopes of the request get their own transaction.
 */
export function joinRequestTransaction(db: Db, scope: Scope): Joined | undefined {
  const state = store.getStore();
  if (!state?.scope || !state.trx || state.db !== db || state.trx.isCompleted() || !sameScope(state.scope, scope)) return undefined;
  if (!scope.readOnly) state.writes = true;
  const trx = state.trx;
  return {
    async run(fn) {
      state.depth++;
      let result;
      try {
        result = await fn(trx);
      } catch (error) {
        state.failure ??= { error };
        throw error;
      } finally {
        state.depth--;
      }
      if (state.writes && state.depth === 0 && !state.failure) {
        try {
          await state.end();
        } catch (error) {
          state.failure = { error };
          throw error;
        }
      }
      return result;
    },
  };
}

/**
 * Queues a statement to run in the round trip of the request transaction's COMMIT (it commits or
 * rolls back with the request). Returns false when trx is not a request transaction.
 */
export function deferToCommit(trx: Tx, query: Knex.QueryBuilder | Knex.Raw): boolean {
  const state = byTrx.get(trx);
  if (!state || trx.isCompleted()) return false;
  state.deferred.push(query.toSQL().toNative());
  return true;
}

/**
 * Commits the request's transaction now (its reads, and the audit entries queued on it), before a
 * slow call to another service: no snapshot and no table lock stay held while it runs (they keep
 * VACUUM from removing dead row versions and the erasure vacuum from rewriting data_keys). Later
 * withScope() calls of the request get transactions of their own. Does nothing outside a request
 * transaction, inside a joined withScope(), or when the request already failed (it rolls back).
 */
export async function endRequestTransaction(): Promise<void> {
  const state = store.getStore();
  if (!state?.trx || state.trx.isCompleted() || state.depth > 0 || state.failure) return;
  try {
    await state.end();
  } catch (error) {
    state.failure = { error };
    throw error;
  }
}
