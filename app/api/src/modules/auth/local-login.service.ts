// Local sign-in (fallback and break-glass): Argon2id password, mandatory TOTP or one single-use
// recovery code, throttling per source and per account (login-limits.ts; no account-wide lock).
// Every failure looks the same to the client, and the Argon2 verification always runs, also for
// unknown names. The sign-in name is "name" or "name@organization-slug".
import type { Services } from '../../http/services.ts';
import { withScope } from '../../db/connection.ts';
import { AppError } from '../../core/errors.ts';
import { isRole, type Role } from '../../core/permissions.ts';
import { open } from '../keystore/keystore.crypto.ts';
import { totpAad } from '../setup/setup.service.ts';
import { audit, auditStandalone } from '../audit/audit.service.ts';
import { claimTotpStep, consumeRecoveryCode, findUser, resolveLogin, updateUser, type UserRow } from '../users/user.repository.ts';
import { verifyPassword } from './password.ts';
import { hashRecoveryCode, verifyTotp } from './totp.ts';
import { createSession, endSessionByToken, type IssuedSession } from './session.service.ts';
import { assertLoginAllowed, clearLoginFailures, countLoginFailure } from './login-limits.ts';

export interface LocalLoginInput {
  username: string;
  password: string;
  totp?: string;
  recoveryCode?: string;
}

export interface ClientInfo {
  ip: string | undefined;
  userAgent: string | undefined;
  previousToken: string | undefined;
}

export interface LoginResult {
  issued: IssuedSession;
  user: { id: string; displayName: string; roles: Role[]; organizationId: string; locale: string };
}

export const invalidCredentials = () => new AppError(401, 'invalid_credentials', 'Username, password or second factor is wrong');

type Check = { ok: true; factor: 'totp' | 'recovery_code'; step?: number } | { ok: false; reason: string };

function checkSecondFactor(services: Services, user: UserRow, input: LocalLoginInput): Check {
  if (input.recoveryCode !== undefined) return { ok: true, factor: 'recovery_code' };
  if (!user.totp_secret || !user.totp_confirmed || input.totp === undefined) return { ok: false, reason: 'no_totp' };
  let secret: string;
  try {
    secret = open(services.appKey, user.totp_secret, totpAad(user.id)).toString('utf8');
  } catch {
    return { ok: false, reason: 'totp_undecryptable' };
  }
  const step = verifyTotp(secret, input.totp);
  return step === undefined ? { ok: false, reason: 'totp' } : { ok: true, factor: 'totp', step };
}

async function loadCandidate(services: Services, ref: { id: string | null; organizationId: string | null }): Promise<UserRow | undefined> {
  if (!ref.id || !ref.organizationId) return undefined;
  return withScope(services.db, { organizationId: ref.organizationId, userId: ref.id }, (trx) => findUser(trx, ref.id!));
}

export async function localLogin(services: Services, input: LocalLoginInput, client: ClientInfo): Promise<LoginResult> {
  const { db } = services;
  const ref = await resolveLogin(db, input.username);
  await assertLoginAllowed(db, services.config, client.ip, ref.accountKey);
  const user = await loadCandidate(services, ref);
  const passwordOk = await verifyPassword(input.password, user?.password_hash ?? null);
  let check: Check;
  if (!user) check = { ok: false, reason: 'unknown_user' };
  else if (!passwordOk) check = { ok: false, reason: 'password' };
  else if (!user.active) check = { ok: false, reason: 'inactive' };
  else check = checkSecondFactor(services, user, input);

  if (!check.ok || !user) return failLogin(services, user, ref.accountKey, client, check.ok ? 'unknown_user' : check.reason);
  await endSessionByToken(db, client.previousToken);
  const issued = await completeLogin(services, user, input, check, client);
  if (!issued) return failLogin(services, user, ref.accountKey, client, check.factor === 'totp' ? 'totp_replay' : 'recovery_code');
  await clearLoginFailures(db, client.ip, ref.accountKey);
  services.metrics.logins.inc({ method: 'local', outcome: 'success' });
  const roles = user.roles.filter(isRole);
  return { issued, user: { id: user.id, displayName: user.display_name, roles, organizationId: user.organization_id, locale: user.locale } };
}

/** Claims the second factor (single use) and opens the session in one transaction. */
async function completeLogin(services: Services, user: UserRow, input: LocalLoginInput, check: Extract<Check, { ok: true }>, client: ClientInfo) {
  return withScope(services.db, { organizationId: user.organization_id, userId: user.id }, async (trx) => {
    const claimed = check.factor === 'totp'
      ? await claimTotpStep(trx, user.id, check.step!)
      : await consumeRecoveryCode(trx, user.id, hashRecoveryCode(input.recoveryCode!));
    if (!claimed) return undefined;
    await updateUser(trx, user.id, { failed_attempts: 0, locked_until: null, last_login_at: new Date() });
    const roles = user.roles.filter(isRole);
    const issued = await createSession(trx, services.config, { organizationId: user.organization_id, userId: user.id, roles, method: 'local' }, client.ip, client.userAgent);
    await audit(trx, {
      action: 'auth.login', objectType: 'user', objectId: user.id, organizationId: user.organization_id, actorUserId: user.id,
      details: { method: 'local', factor: check.factor, sessionId: issued.sessionId },
    });
    return issued;
  });
}

async function failLogin(services: Services, user: UserRow | undefined, accountKey: string, client: ClientInfo, reason: string): Promise<never> {
  const failures = await countLoginFailure(services.db, services.config, client.ip, accountKey);
  if (user) {
    await withScope(services.db, { organizationId: user.organization_id, userId: user.id }, (trx) => updateUser(trx, user.id, { failed_attempts: failures }));
  }
  services.metrics.logins.inc({ method: 'local', outcome: 'failure' });
  await auditStandalone(services.db, {
    action: 'auth.login', outcome: 'failure', objectType: 'user', objectId: user?.id,
    organizationId: user?.organization_id ?? null, actorUserId: user?.id ?? null, details: { method: 'local', reason },
  });
  throw invalidCredentials();
}
