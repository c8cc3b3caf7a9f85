// Server-side sessions in PostgreSQL. The cookie holds a random token; the database holds its
// SHA-256. Idle and absolute timeouts; a new token on every login and role change.
import { createHash, randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { Db, Tx } from '../../db/connection.ts';
import { withScope } from '../../db/connection.ts';
import type { Actor } from '../../core/context.ts';
import { isRole, type Role } from '../../core/permissions.ts';
import type { Config } from '../../core/config.ts';
import { deleteSession, findRequestScope, findSessionByTokenHash, insertSession, requestScopeStatement, type RequestScopeRow } from './session.repository.ts';

export const SESSION_COOKIE = 'pk_session';
export const CSRF_COOKIE = 'pk_csrf';

export const hashToken = (token: string) => createHash('sha256').update(token).digest();

export interface NewSession {
  organizationId: string;
  userId: string;
  roles: Role[];
  method: 'local' | 'oidc' | 'setup';
  oidcIssuer?: string;
  oidcSid?: string;
}

export interface IssuedSession {
  token: string;
  csrfToken: string;
  sessionId: string;
}

export async function createSession(trx: Tx, config: Config, s: NewSession, ip?: string, userAgent?: string): Promise<IssuedSession> {
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const now = Date.now();
  const sessionId = await insertSession(trx, {
    token_hash: hashToken(token),
    organization_id: s.organizationId,
    user_id: s.userId,
    csrf_token: csrfToken,
    auth_method: s.method,
    roles: s.roles,
    oidc_issuer: s.oidcIssuer ?? null,
    oidc_sid: s.oidcSid ?? null,
    ip: ip ?? null,
    user_agent: userAgent?.slice(0, 500) ?? null,
    idle_expires_at: new Date(now + config.sessionIdleMinutes * 60_000),
    absolute_expires_at: new Date(now + config.sessionAbsoluteHours * 3_600_000),
  });
  return { token, csrfToken, sessionId };
}

export function setSessionCookies(ctx: Context, config: Config, issued: IssuedSession): void {
  const secure = config.secureCookies;
  ctx.cookies.set(SESSION_COOKIE, issued.token, { httpOnly: true, sameSite: 'lax', secure, path: '/', overwrite: true });
  ctx.cookies.set(CSRF_COOKIE, issued.csrfToken, { httpOnly: false, sameSite: 'strict', secure, path: '/', overwrite: true });
}

export function clearSessionCookies(ctx: Context, config: Config): void {
  ctx.cookies.set(SESSION_COOKIE, null, { path: '/', secure: config.secureCookies });
}

export type SessionActor = Actor & { csrfToken: string; method: string };

const tokenShaped = (token: string | undefined): token is string => Boolean(token) && token!.length <= 100;

/** The actor of a row of auth_request_scope(), which enforced timeouts, deactivation and role changes. */
export function toSessionActor(row: RequestScopeRow | undefined): SessionActor | undefined {
  if (!row) return undefined;
  return {
    userId: row.user_id,
    organizationId: row.organization_id,
    roles: row.roles.filter(isRole),
    installationRoles: row.is_operator ? ['operator'] : [],
    timeZone: row.time_zone,
    sessionId: row.id,
    csrfToken: row.csrf_token,
    method: row.auth_method,
  };
}

/**
 * The statement that opens a request's transaction: it checks the cookie's session, extends the
 * idle timeout at most once a minute and scopes the transaction (undefined: no usable cookie).
 */
export function sessionScopeStatement(config: Config, token: string | undefined): string | undefined {
  return tokenShaped(token) ? requestScopeStatement(hashToken(token), config.sessionIdleMinutes) : undefined;
}

/** Resolves the cookie to an actor in one statement of its own (requests without a transaction). */
export async function authenticate(db: Db, config: Config, token: string | undefined): Promise<SessionActor | undefined> {
  if (!tokenShaped(token)) return undefined;
  return toSessionActor(await findRequestScope(db, hashToken(token), config.sessionIdleMinutes));
}

/** Ends the session a cookie points at (if any): a login never continues an old session. */
export async function endSessionByToken(db: Db, token: string | undefined): Promise<void> {
  if (!token || token.length > 100) return;
  const found = await findSessionByTokenHash(db, hashToken(token));
  if (!found) return;
  await withScope(db, { organizationId: found.organization_id, userId: found.user_id }, (trx) => deleteSession(trx, found.id));
}
