// User administration within one organization: list, create local accounts and reset them (both
// answer with a one-time enrollment link: the person chooses password and TOTP themselves), change
// roles, display name and activation. A role change, a reset or a deactivation ends the user's
// sessions. Used by the API and the `praxiskern user` CLI.
import { randomUUID } from 'node:crypto';
import type { Services } from '../../http/services.ts';
import type { Actor } from '../../core/context.ts';
import { permits, type Role } from '../../core/permissions.ts';
import { withScope, type Tx } from '../../db/connection.ts';
import { AppError, conflict, forbidden, notFound, validation } from '../../core/errors.ts';
import { audit } from '../audit/audit.service.ts';
import { deleteUserSessions } from '../auth/session.repository.ts';
import { countOtherActiveAdmins, findPublicUser, findUser, insertUser, listUsers, updateUser, type UserRow } from './user.repository.ts';
import { isUsernameTaken } from './user-credentials.ts';
import { issueEnrollment, type IssuedEnrollment } from './enrollment.service.ts';
import { isInstallationOperator } from '../installation/operator.repository.ts';
import { assertOperatorRemains } from '../installation/operator.service.ts';
import type { CreateUserInput, EnrollmentKind, UpdateUserInput } from './user.schema.ts';

/** Who acts: a signed-in administrator, or the CLI on the server (userId null). */
export interface Operator {
  organizationId: string;
  userId: string | null;
  /** platform_owner can only be granted or taken by an installation operator or the CLI. */
  mayManagePlatformRole: boolean;
  /** An installation operator's account (reset, activation, roles) is changed only by an operator or the CLI. */
  mayManageOperators: boolean;
}

export const operatorFrom = (actor: Actor): Operator => ({
  organizationId: actor.organizationId, userId: actor.userId, mayManagePlatformRole: permits(actor, 'organizations.manage'),
  mayManageOperators: permits(actor, 'installation.operators'),
});

export type PublicUser = ReturnType<typeof toPublicUser>;

type PublicUserRow = Pick<UserRow, 'id' | 'username' | 'display_name' | 'email' | 'oidc_issuer' | 'roles' | 'locale' | 'active' | 'locked_until' | 'last_login_at' | 'created_at'> & {
  enrollment_expires_at?: Date | null;
  enrollment_kind?: EnrollmentKind | null;
};

export function toPublicUser(u: PublicUserRow) {
  return {
    id: u.id, username: u.username, displayName: u.display_name, email: u.email, roles: u.roles, locale: u.locale, active: u.active,
    signIn: u.oidc_issuer ? ('oidc' as const) : ('local' as const), lockedUntil: u.locked_until, lastLoginAt: u.last_login_at, createdAt: u.created_at,
    /** Until when the account's enrollment link works; null when none is pending. */
    enrollmentExpiresAt: u.enrollment_expires_at ?? null,
    enrollmentKind: u.enrollment_kind ?? null,
  };
}

export const publicEnrollment = (e: IssuedEnrollment) => ({ url: e.url, expiresAt: e.expiresAt });

const scopeOf = (op: Operator) => ({ organizationId: op.organizationId, userId: op.userId });

function assertPlatformRoleChange(op: Operator, before: readonly Role[], after: readonly Role[]): void {
  if (before.includes('platform_owner') !== after.includes('platform_owner') && !op.mayManagePlatformRole) {
    throw forbidden('Only an installation operator (or the praxiskern CLI) can grant or remove the platform_owner role');
  }
}

const operatorProtected = () =>
  new AppError(403, 'operator_protected', 'This account is an installation operator: only an installation operator (or the praxiskern CLI) can reset it, change its roles or its activation');

/**
 * Reset, role and activation changes of an installation operator's account need installation.operators
 * (else an organization admin could take it over); deactivating one keeps at least one active operator.
 */
async function assertOperatorChange(trx: Tx, op: Operator, user: UserRow, deactivates: boolean): Promise<void> {
  if (!(await isInstallationOperator(trx, user.id))) return;
  if (!op.mayManageOperators) throw operatorProtected();
  if (deactivates) await assertOperatorRemains(trx, user.id);
}

export async function listOrganizationUsers(services: Services, op: Operator): Promise<PublicUser[]> {
  return withScope(services.db, scopeOf(op), async (trx) => {
    const rows = await listUsers(trx);
    await audit(trx, { action: 'user.list', objectType: 'user', organizationId: op.organizationId, actorUserId: op.userId, details: { count: rows.length } });
    return rows.map(toPublicUser);
  });
}

/** A new local account without credentials, and its enrollment link (shown once to the creator). */
export async function createLocalUser(services: Services, op: Operator, input: CreateUserInput) {
  assertPlatformRoleChange(op, [], input.roles);
  const id = randomUUID();
  try {
    return await withScope(services.db, scopeOf(op), async (trx) => {
      await insertUser(trx, {
        id, organization_id: op.organizationId, username: input.username, display_name: input.displayName, email: input.email ?? null,
        roles: input.roles, locale: input.locale ?? 'de',
      });
      await audit(trx, { action: 'user.created', objectType: 'user', objectId: id, organizationId: op.organizationId, actorUserId: op.userId, details: { roles: input.roles } });
      const enrollment = await issueEnrollment(trx, services.config, { userId: id, organizationId: op.organizationId }, op.userId);
      return { user: toPublicUser((await findPublicUser(trx, id))!), enrollment: publicEnrollment(enrollment) };
    });
  } catch (err) {
    // Usernames are unique per organization: this only ever speaks about the operator's own one.
    if (isUsernameTaken(err)) throw new AppError(409, 'conflict', 'username: is already taken', [{ field: 'username', message: 'is already taken' }]);
    throw err;
  }
}

/** What a reset removes at once: the old secret stops working when the link is issued, not when it is used. */
const RESET_COLUMNS: Record<EnrollmentKind, Partial<UserRow>> = {
  full: { password_hash: null, totp_secret: null, totp_confirmed: false, totp_last_step: null, recovery_codes: [] },
  password: { password_hash: null },
  totp: { totp_secret: null, totp_confirmed: false, totp_last_step: null, recovery_codes: [] },
};

/**
 * Resets a local account through a one-time enrollment link: kind 'full' removes password, TOTP and
 * recovery codes; 'password' only the password (the person confirms the new one with the
 * authenticator they keep); 'totp' the authenticator and the recovery codes (confirmed with the
 * password they keep). The removed secret stops working at once, every session of the user ends
 * and the new link replaces any earlier one. Also re-issues a link that expired before use.
 */
export async function resetLocalAccount(services: Services, op: Operator, id: string, kind: EnrollmentKind = 'full') {
  return withScope(services.db, scopeOf(op), async (trx) => {
    const user = await findUser(trx, id);
    if (!user) throw notFound('User');
    if (!user.username || user.oidc_issuer) throw new AppError(409, 'oidc_account', 'This account signs in through the identity provider: its password and second factor are managed there');
    if (user.id === op.userId) throw conflict('You cannot reset your own account; change your password instead');
    if (user.roles.includes('platform_owner') && !op.mayManagePlatformRole) throw forbidden('Only an installation operator (or the praxiskern CLI) can reset a platform owner');
    await assertOperatorChange(trx, op, user, false);
    // A partial reset needs the part the person keeps (an account that never enrolled gets a full one).
    if (kind === 'password' && !(user.totp_secret && user.totp_confirmed)) throw validation('kind', 'the account has no authenticator to keep: reset password and authenticator', 'nothing_to_keep');
    if (kind === 'totp' && !user.password_hash) throw validation('kind', 'the account has no password to keep: reset password and authenticator', 'nothing_to_keep');
    await updateUser(trx, id, { ...RESET_COLUMNS[kind], failed_attempts: 0, locked_until: null });
    const sessionsEnded = await deleteUserSessions(trx, id);
    await audit(trx, { action: 'user.reset', objectType: 'user', objectId: id, organizationId: op.organizationId, actorUserId: op.userId, details: { kind, sessionsEnded } });
    const enrollment = await issueEnrollment(trx, services.config, { userId: id, organizationId: op.organizationId }, op.userId, kind);
    return { user: toPublicUser((await findPublicUser(trx, id))!), enrollment: publicEnrollment(enrollment) };
  });
}

async function assertNotLockingOut(trx: Tx, op: Operator, user: UserRow, nextRoles: Role[], nextActive: boolean): Promise<void> {
  const losesAdmin = user.active && user.roles.includes('admin') && (!nextActive || !nextRoles.includes('admin'));
  if (!losesAdmin) return;
  if (user.id === op.userId) {
    throw conflict(nextActive ? 'You cannot remove your own admin role' : 'You cannot deactivate yourself', { field: nextActive ? 'roles' : 'active' });
  }
  if ((await countOtherActiveAdmins(trx, user.id)) === 0) throw conflict('The organization must keep at least one active administrator');
}

export async function changeUser(services: Services, op: Operator, id: string, patch: UpdateUserInput): Promise<PublicUser> {
  return withScope(services.db, scopeOf(op), async (trx) => {
    const user = await findUser(trx, id);
    if (!user) throw notFound('User');
    const nextRoles = patch.roles ?? user.roles;
    const nextActive = patch.active ?? user.active;
    assertPlatformRoleChange(op, user.roles, nextRoles);
    await assertNotLockingOut(trx, op, user, nextRoles, nextActive);
    const rolesChanged = [...user.roles].sort().join(',') !== nextRoles.join(',');
    if (rolesChanged || nextActive !== user.active) await assertOperatorChange(trx, op, user, user.active && !nextActive);
    const reactivated = !user.active && nextActive;
    // Name and e-mail of an identity-provider account come from the IdP at every sign-in.
    const nameChanged = patch.displayName !== undefined && patch.displayName !== user.display_name;
    const emailChanged = patch.email !== undefined && (patch.email ?? null) !== user.email;
    if (user.oidc_issuer && nameChanged) throw validation('displayName', 'comes from the identity provider; change it there', 'managed_by_idp');
    if (user.oidc_issuer && emailChanged) throw validation('email', 'comes from the identity provider; change it there', 'managed_by_idp');
    await updateUser(trx, id, {
      roles: nextRoles, active: nextActive, display_name: patch.displayName ?? user.display_name,
      ...(patch.email !== undefined ? { email: patch.email } : {}),
      ...(reactivated ? { failed_attempts: 0, locked_until: null } : {}),
    });
    const sessionsEnded = rolesChanged || !nextActive ? await deleteUserSessions(trx, id) : 0;
    await audit(trx, {
      action: 'user.updated', objectType: 'user', objectId: id, organizationId: op.organizationId, actorUserId: op.userId,
      details: { ...(rolesChanged ? { roles: { from: user.roles, to: nextRoles } } : {}), ...(patch.active !== undefined ? { active: nextActive } : {}), displayNameChanged: nameChanged, emailChanged, sessionsEnded },
    });
    return toPublicUser((await findPublicUser(trx, id))!);
  });
}
