// One-time enrollment links: every new or reset local account gets a link with a short lifetime
// (PRAXISKERN_ENROLLMENT_TTL_HOURS). Its holder chooses the password and enrolls the TOTP
// authenticator; nobody else ever sees either. Only the token's SHA-256 is stored; a link works
// once; a new link replaces the old one. The token travels in the URL fragment (#…), which
// browsers never send, and the page posts it in a request body, so no access log records it.
import { randomBytes } from 'node:crypto';
import type { Services } from '../../http/services.ts';
import type { Config } from '../../core/config.ts';
import { withScope, type Db, type Tx } from '../../db/connection.ts';
import { AppError, validation } from '../../core/errors.ts';
import { isRole, type Role } from '../../core/permissions.ts';
import { assertNotLocked, recordFailure } from '../../core/rate-limit.ts';
import { audit } from '../audit/audit.service.ts';
import { newTotpSecret, otpauthUrl, verifyTotp } from '../auth/totp.ts';
import { createSession, endSessionByToken, hashToken, type IssuedSession } from '../auth/session.service.ts';
import type { ClientInfo } from '../auth/local-login.service.ts';
import { findUser, resolveLogin, updateUser, type UserRow } from './user.repository.ts';
import { claimEnrollment, findEnrollment, findEnrollmentRef, organizationOf, upsertEnrollment, type EnrollmentRow } from './enrollment.repository.ts';
import { checkPasswordStrength, localCredentials } from './user-credentials.ts';

/** The web page that redeems a link (app/web/src/routes/(public)/enroll). */
export const ENROLL_PAGE = '/enroll';

export interface IssuedEnrollment {
  /** Shown once to whoever created or reset the account, for handing over. */
  url: string;
  expiresAt: Date;
}

export const enrollmentInvalid = () => new AppError(404, 'enrollment_invalid', 'This enrollment link is not valid or has already been used');
const enrollmentExpired = () => new AppError(410, 'enrollment_expired', 'This enrollment link has expired: ask your administrator for a new one');

/** Creates (or replaces) the user's link inside the caller's transaction; audited with ids only. */
export async function issueEnrollment(trx: Tx, config: Config, target: { userId: string; organizationId: string }, createdBy: string | null): Promise<IssuedEnrollment> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + config.enrollmentTtlHours * 3_600_000);
  await upsertEnrollment(trx, { user_id: target.userId, organization_id: target.organizationId, token_hash: hashToken(token), expires_at: expiresAt, created_by: createdBy });
  await audit(trx, {
    action: 'user.enrollment_issued', objectType: 'user', objectId: target.userId, organizationId: target.organizationId, actorUserId: createdBy,
    details: { expiresAt: expiresAt.toISOString() },
  });
  return { url: `${config.publicUrl}${ENROLL_PAGE}#${token}`, expiresAt };
}

interface Pending {
  enrollment: EnrollmentRow;
  user: UserRow;
  organization: { name: string; slug: string };
}

const bucketOf = (ip: string | undefined) => `enroll:ip:${ip ?? 'unknown'}`;

/** The pending enrollment of a token; wrong tokens count against the client address. */
async function pendingEnrollment(services: Services, token: string, ip: string | undefined): Promise<Pending> {
  const { db, config } = services;
  await assertNotLocked(db, bucketOf(ip));
  const tokenHash = hashToken(token);
  const ref = await findEnrollmentRef(db, tokenHash);
  const found = ref && (await withScope(db, { organizationId: ref.organization_id, userId: ref.user_id }, async (trx) => {
    const enrollment = await findEnrollment(trx, tokenHash);
    const user = await findUser(trx, ref.user_id);
    const organization = await organizationOf(trx, ref.organization_id);
    return enrollment && user?.active && organization ? { enrollment, user, organization } : undefined;
  }));
  if (!found) {
    const { ipMaxFailures, windowSeconds, lockSeconds } = config.login;
    await recordFailure(db, bucketOf(ip), { maxFailures: ipMaxFailures, windowSeconds, lockSeconds });
    throw enrollmentInvalid();
  }
  if (found.enrollment.expires_at.getTime() <= Date.now()) throw enrollmentExpired();
  return found;
}

/** "name" when it signs in to the installation's first organization, else "name@slug". */
async function loginNameOf(db: Db, user: UserRow, slug: string): Promise<string> {
  const plain = await resolveLogin(db, user.username!);
  return plain.id === user.id ? user.username! : `${user.username}@${slug}`;
}

/** Step 1: who the link is for, and a fresh authenticator secret (stored only on completion). */
export async function beginEnrollment(services: Services, token: string, ip: string | undefined) {
  const { enrollment, user, organization } = await pendingEnrollment(services, token, ip);
  const loginName = await loginNameOf(services.db, user, organization.slug);
  const totpSecret = newTotpSecret();
  return {
    displayName: user.display_name, loginName, organizationName: organization.name, expiresAt: enrollment.expires_at,
    totpSecret, otpauthUrl: otpauthUrl('Praxiskern', loginName, totpSecret),
  };
}

export interface CompleteEnrollmentInput {
  token: string;
  password: string;
  totpSecret: string;
  totpCode: string;
}

export interface CompletedEnrollment {
  issued: IssuedSession;
  recoveryCodes: string[];
  user: { id: string; displayName: string; loginName: string; roles: Role[]; organizationId: string; locale: string };
}

/** Step 2: the chosen password and the confirmed authenticator; signs the person in. */
export async function completeEnrollment(services: Services, input: CompleteEnrollmentInput, client: ClientInfo): Promise<CompletedEnrollment> {
  const { user, organization } = await pendingEnrollment(services, input.token, client.ip);
  checkPasswordStrength(input.password);
  const step = verifyTotp(input.totpSecret, input.totpCode);
  if (step === undefined) throw validation('totpCode', 'does not match the authenticator secret; check the device clock');
  const creds = await localCredentials(services.appKey, user.id, input.password, input.totpSecret);
  const roles = user.roles.filter(isRole);
  await endSessionByToken(services.db, client.previousToken);
  const issued = await withScope(services.db, { organizationId: user.organization_id, userId: user.id }, async (trx) => {
    if ((await claimEnrollment(trx, hashToken(input.token))) !== user.id) throw enrollmentInvalid();
    await updateUser(trx, user.id, { ...creds.columns, totp_last_step: String(step), failed_attempts: 0, locked_until: null, last_login_at: new Date() });
    await audit(trx, { action: 'user.enrolled', objectType: 'user', objectId: user.id, organizationId: user.organization_id, actorUserId: user.id });
    const session = await createSession(trx, services.config, { organizationId: user.organization_id, userId: user.id, roles, method: 'local' }, client.ip, client.userAgent);
    await audit(trx, {
      action: 'auth.login', objectType: 'user', objectId: user.id, organizationId: user.organization_id, actorUserId: user.id,
      details: { method: 'local', factor: 'enrollment', sessionId: session.sessionId },
    });
    return session;
  });
  const loginName = await loginNameOf(services.db, user, organization.slug);
  return {
    issued, recoveryCodes: creds.recoveryCodes,
    user: { id: user.id, displayName: user.display_name, loginName, roles, organizationId: user.organization_id, locale: user.locale },
  };
}
