// Server-side sessions in PostgreSQL. The cookie holds a random token; the database holds its
// SHA-256. Idle and absolute timeouts; a new token on every login and role change.
import { createHash, randomBytes } from 'node:crypto';
import type { Context } from 'koa';
import type { Db, Tx } from '../../db/connection.ts';
import { withScope } from '../../db/connection.ts';
import type { Actor } from '../../core/context.ts';
import { isRole, type Role } from '../../core/permissions.ts';
import type { Config } from '../../core/config.ts';
import { deleteSession, findSessionActor, findSessionByTokenHash, insertSession, touchSession } from './session.repository.ts';

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

/** Resolves the cookie to an actor, enforcing timeouts, deactivation and role changes. */
export async function authenticate(db: Db, config: Config, token: string | undefined): Promise<(Actor & { csrfToken: string; method: string }) | undefined> {
  if (!token || token.length > 100) return undefined;
  const s = await findSessionActor(db, hashToken(token));
  if (!s) return undefined;
  const now = Date.now();
  if (!s.user_active || s.idle_expires_at.getTime() < now || s.absolute_expires_at.getTime() < now || !sameRoles(s.roles, s.user_roles)) {
    await withScope(db, { organizationId: s.organization_id, userId: s.user_id }, (trx) => deleteSession(trx, s.id));
    return undefined;
  }
  // Extend the idle timeout at most once a minute to keep reads cheap.
  const idle = new Date(now + config.sessionIdleMinutes * 60_000);
  if (idle.getTime() - s.idle_expires_at.getTime() > 60_000) {
    await withScope(db, { organizationId: s.organization_id, userId: s.user_id }, (trx) => touchSession(trx, s.id, idle));
  }
  return {
    userId: s.user_id,
    organizationId: s.organization_id,
    roles: s.roles.filter(isRole),
    installationRoles: s.is_operator ? ['operator'] : [],
    sessionId: s.id,
    csrfToken: s.csrf_token,
    method: s.auth_method,
  };
}

function sameRoles(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');
}

/** Ends the session a cookie points at (if any): a login never continues an old session. */
export async function endSessionByToken(db: Db, token: string | undefined): Promise<void> {
  if (!token || token.length > 100) return;
  const found = await findSessionByTokenHash(db, hashToken(token));
  if (!found) return;
  await withScope(db, { organizationId: found.organization_id, userId: found.user_id }, (trx) => deleteSession(trx, found.id));
}
