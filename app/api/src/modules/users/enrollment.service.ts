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
import { hashPassword, verifyPassword } from '../auth/password.ts';
import { hashRecoveryCode, newRecoveryCodes } from '../auth/totp.ts';
import { open, seal as encrypt } from '../keystore/keystore.crypto.ts';
import { totpAad } from '../setup/setup.service.ts';
import type { EnrollmentKind } from './user.schema.ts';

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
export async function issueEnrollment(trx: Tx, config: Config, target: { userId: string; organizationId: string }, createdBy: string | null, kind: EnrollmentKind = 'full'): Promise<IssuedEnrollment> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + config.enrollmentTtlHours * 3_600_000);
  await upsertEnrollment(trx, { user_id: target.userId, organization_id: target.organizationId, token_hash: hashToken(token), expires_at: expiresAt, created_by: createdBy, kind });
  await audit(trx, {
    action: 'user.enrollment_issued', objectType: 'user', objectId: target.userId, organizationId: target.organizationId, actorUserId: createdBy,
    details: { expiresAt: expiresAt.toISOString(), kind },
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
  const kind = enrollment.kind;
  const totpSecret = kind === 'password' ? null : newTotpSecret();
  return {
    displayName: user.display_name, loginName, organizationName: organization.name, expiresAt: enrollment.expires_at, kind,
    totpSecret, otpauthUrl: totpSecret && otpauthUrl(totpIssuer(organization.name), loginName, totpSecret),
  };
}

/** The issuer shown in the authenticator app: "Praxiskern (<organization>)"; the label adds the sign-in name. */
export const totpIssuer = (organizationName: string) => `Praxiskern (${organizationName.replace(/[:]/g, ' ').trim()})`;

export interface CompleteEnrollmentInput {
  token: string;
  /** The new password (kinds full and password). */
  password?: string | undefined;
  /** The password the person keeps (kind totp). */
  currentPassword?: string | undefined;
  /** The new authenticator's secret (kinds full and totp). */
  totpSecret?: string | undefined;
  /** A code of the new authenticator, or of the kept one (kind password). */
  totpCode: string;
}

const required = (field: string) => validation(field, 'is required for this link');

/** The credential columns a completed link writes, after checking what the person proves. */
async function renewedCredentials(services: Services, user: UserRow, kind: EnrollmentKind, input: CompleteEnrollmentInput, ip: string | undefined) {
  if (kind === 'full') {
    if (!input.password) throw required('password');
    if (!input.totpSecret) throw required('totpSecret');
    checkPasswordStrength(input.password);
    const step = verifyTotp(input.totpSecret, input.totpCode);
    if (step === undefined) throw validation('totpCode', 'does not match the authenticator secret; check the device clock');
    const creds = await localCredentials(services.appKey, user.id, input.password, input.totpSecret);
    return { columns: { ...creds.columns, totp_last_step: String(step) }, recoveryCodes: creds.recoveryCodes, factor: 'enrollment' };
  }
  if (kind === 'password') {
    if (!input.password) throw required('password');
    checkPasswordStrength(input.password);
    let secret: string | undefined;
    try {
      secret = user.totp_secret ? open(services.appKey, user.totp_secret, totpAad(user.id)).toString('utf8') : undefined;
    } catch {
      secret = undefined;
    }
    const step = secret === undefined ? undefined : verifyTotp(secret, input.totpCode);
    if (step === undefined || (user.totp_last_step !== null && Number(user.totp_last_step) >= step)) {
      await countEnrollmentFailure(services, ip);
      throw validation('totpCode', 'does not match your authenticator; check the device clock');
    }
    return { columns: { password_hash: await hashPassword(input.password), totp_last_step: String(step) }, recoveryCodes: [] as string[], factor: 'enrollment_password' };
  }
  if (!input.currentPassword) throw required('currentPassword');
  if (!input.totpSecret) throw required('totpSecret');
  if (!(await verifyPassword(input.currentPassword, user.password_hash))) {
    await countEnrollmentFailure(services, ip);
    throw validation('currentPassword', 'is wrong');
  }
  const step = verifyTotp(input.totpSecret, input.totpCode);
  if (step === undefined) throw validation('totpCode', 'does not match the authenticator secret; check the device clock');
  const recoveryCodes = newRecoveryCodes();
  return {
    columns: { totp_secret: encrypt(services.appKey, Buffer.from(input.totpSecret), totpAad(user.id)), totp_confirmed: true, totp_last_step: String(step), recovery_codes: recoveryCodes.map(hashRecoveryCode) },
    recoveryCodes, factor: 'enrollment_totp',
  };
}

async function countEnrollmentFailure(services: Services, ip: string | undefined): Promise<void> {
  const { ipMaxFailures, windowSeconds, lockSeconds } = services.config.login;
  await recordFailure(services.db, bucketOf(ip), { maxFailures: ipMaxFailures, windowSeconds, lockSeconds });
}

export interface CompletedEnrollment {
  issued: IssuedSession;
  recoveryCodes: string[];
  user: { id: string; displayName: string; loginName: string; roles: Role[]; organizationId: string; locale: string };
}

/** Step 2: the chosen password and the confirmed authenticator; signs the person in. */
export async function completeEnrollment(services: Services, input: CompleteEnrollmentInput, client: ClientInfo): Promise<CompletedEnrollment> {
  const { user, organization, enrollment } = await pendingEnrollment(services, input.token, client.ip);
  const kind = enrollment.kind;
  const creds = await renewedCredentials(services, user, kind, input, client.ip);
  const roles = user.roles.filter(isRole);
  await endSessionByToken(services.db, client.previousToken);
  const issued = await withScope(services.db, { organizationId: user.organization_id, userId: user.id }, async (trx) => {
    const claimed = await claimEnrollment(trx, hashToken(input.token));
    // The link is used up in the same transaction that writes what it renews (kind as it was read).
    if (claimed?.user_id !== user.id || claimed.kind !== kind) throw enrollmentInvalid();
    await updateUser(trx, user.id, { ...creds.columns, failed_attempts: 0, locked_until: null, last_login_at: new Date() });
    await audit(trx, { action: 'user.enrolled', objectType: 'user', objectId: user.id, organizationId: user.organization_id, actorUserId: user.id, details: { kind } });
    const session = await createSession(trx, services.config, { organizationId: user.organization_id, userId: user.id, roles, method: 'local' }, client.ip, client.userAgent);
    await audit(trx, {
      action: 'auth.login', objectType: 'user', objectId: user.id, organizationId: user.organization_id, actorUserId: user.id,
      details: { method: 'local', factor: creds.factor, sessionId: session.sessionId },
    });
    return session;
  });
  const loginName = await loginNameOf(services.db, user, organization.slug);
  return {
    issued, recoveryCodes: creds.recoveryCodes,
    user: { id: user.id, displayName: user.display_name, loginName, roles, organizationId: user.organization_id, locale: user.locale },
  };
}
