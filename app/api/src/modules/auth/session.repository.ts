import type { Db, Tx } from '../../db/connection.ts';

export interface SessionRow {
  id: string;
  organization_id: string;
  user_id: string;
  csrf_token: string;
  auth_method: 'local' | 'oidc' | 'setup';
  roles: string[];
  idle_expires_at: Date;
  absolute_expires_at: Date;
  oidc_issuer: string | null;
  oidc_sid: string | null;
}

export async function findSessionByTokenHash(db: Db, tokenHash: Buffer) {
  const { rows } = await db.raw('select * from auth_find_session(?)', [tokenHash]);
  return rows[0] as { id: string; organization_id: string; user_id: string } | undefined;
}

/** What auth_request_scope() returns for a valid session (it deletes an invalid one and returns nothing). */
export type RequestScopeRow = Pick<SessionRow, 'id' | 'organization_id' | 'user_id' | 'csrf_token' | 'auth_method' | 'roles'> & { is_operator: boolean; time_zone: string };

/**
 * The statement that checks a session and scopes the caller's transaction to it, as text without
 * parameters so it can share a round trip with BEGIN: the hash is hex, the minutes an integer.
 */
export function requestScopeStatement(tokenHash: Buffer, idleMinutes: number): string {
  if (!Number.isSafeInteger(idleMinutes) || idleMinutes <= 0) throw new Error('the session idle timeout must be a whole number of minutes');
  return `select * from auth_request_scope('\\x${tokenHash.toString('hex')}'::bytea, ${idleMinutes})`;
}

/** The same check as one statement of its own (requests that hold no transaction). */
export async function findRequestScope(db: Db, tokenHash: Buffer, idleMinutes: number): Promise<RequestScopeRow | undefined> {
  const { rows } = await db.raw('select * from auth_request_scope(?, ?)', [tokenHash, idleMinutes]);
  return rows[0];
}

export async function loadSession(trx: Tx, id: string): Promise<(SessionRow & { user_active: boolean; user_roles: string[] }) | undefined> {
  return trx('sessions as s')
    .join('users as u', 'u.id', 's.user_id')
    .where('s.id', id)
    .first(
      's.id', 's.organization_id', 's.user_id', 's.csrf_token', 's.auth_method', 's.roles', 's.idle_expires_at',
      's.absolute_expires_at', 's.oidc_issuer', 's.oidc_sid', 'u.active as user_active', 'u.roles as user_roles',
    );
}

export async function insertSession(trx: Tx, row: Omit<SessionRow, 'id'> & { token_hash: Buffer; ip: string | null; user_agent: string | null }) {
  const [created] = await trx('sessions').insert(row).returning('id');
  return created.id as string;
}

export async function deleteSession(trx: Tx, id: string): Promise<void> {
  await trx('sessions').where({ id }).delete();
}

export async function deleteUserSessions(trx: Tx, userId: string): Promise<number> {
  return trx('sessions').where({ user_id: userId }).delete();
}

export async function deleteOtherSessions(trx: Tx, userId: string, keepId: string): Promise<number> {
  return trx('sessions').where({ user_id: userId }).whereNot({ id: keepId }).delete();
}

export async function deleteSessionsByIds(trx: Tx, ids: string[]): Promise<number> {
  return ids.length ? trx('sessions').whereIn('id', ids).delete() : 0;
}

export async function findOidcSessionRefs(db: Db, issuer: string, sid: string | null, subject: string | null) {
  const { rows } = await db.raw('select * from auth_find_oidc_sessions(?, ?, ?)', [issuer, sid, subject]);
  return rows as { id: string; organization_id: string; user_id: string }[];
}
