// User administration within one organization: list, create local accounts and reset them (both
// answer with a one-time enrollment link: the person chooses password and TOTP themselves), change
// roles, display name and activation. A role change, a reset or a deactivation ends the user's
// sessions. Used by the API and the `praxiskern user` CLI.
import { randomUUID } from 'node:crypto';
import type { Services } from '../../http/services.ts';
import type { Actor } from '../../core/context.ts';
import { permits, type Role } from '../../core/permissions.ts';
import { withScope, type Tx } from '../../db/connection.ts';
import { AppError, conflict, forbidden, notFound } from '../../core/errors.ts';
import { audit } from '../audit/audit.service.ts';
import { deleteUserSessions } from '../auth/session.repository.ts';
import { countOtherActiveAdmins, findPublicUser, findUser, insertUser, listUsers, updateUser, type UserRow } from './user.repository.ts';
import { isUsernameTaken } from './user-credentials.ts';
import { issueEnrollment, type IssuedEnrollment } from './enrollment.service.ts';
import { isInstallationOperator } from '../installation/operator.repository.ts';
import { assertOperatorRemains } from '../installation/operator.service.ts';
import type { CreateUserInput, UpdateUserInput } from './user.schema.ts';

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
};

export function toPublicUser(u: PublicUserRow) {
  return {
    id: u.id, username: u.username, displayName: u.display_name, email: u.email, roles: u.roles, locale: u.locale, active: u.active,
    signIn: u.oidc_issuer ? ('oidc' as const) : ('local' as const), lockedUntil: u.locked_until, lastLoginAt: u.last_login_at, createdAt: u.created_at,
    /** Until when the account's enrollment link works; null when none is pending. */
    enrollmentExpiresAt: u.enrollment_expires_at ?? null,
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

/**
 * Resets a local account: password, TOTP and recovery codes are removed, its sessions end and a new
 * enrollment link replaces any earlier one. Also re-issues a link that expired before use.
 */
export async function resetLocalAccount(services: Services, op: Operator, id: string) {
  return withScope(services.db, scopeOf(op), async (trx) => {
    const user = await findUser(trx, id);
    if (!user) throw notFound('User');
    if (!user.username || user.oidc_issuer) throw conflict('This account signs in through the identity provider and has no local credentials');
    if (user.id === op.userId) throw conflict('You cannot reset your own account; change your password instead');
    if (user.roles.includes('platform_owner') && !op.mayManagePlatformRole) throw forbidden('Only an installation operator (or the praxiskern CLI) can reset a platform owner');
    await assertOperatorChange(trx, op, user, false);
    await updateUser(trx, id, { password_hash: null, totp_secret: null, totp_confirmed: false, totp_last_step: null, recovery_codes: [], failed_attempts: 0, locked_until: null });
    const sessionsEnded = await deleteUserSessions(trx, id);
    await audit(trx, { action: 'user.reset', objectType: 'user', objectId: id, organizationId: op.organizationId, actorUserId: op.userId, details: { sessionsEnded } });
    const enrollment = await issueEnrollment(trx, services.config, { userId: id, organizationId: op.organizationId }, op.userId);
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
    await updateUser(trx, id, {
      roles: nextRoles, active: nextActive, display_name: patch.displayName ?? user.display_name,
      ...(reactivated ? { failed_attempts: 0, locked_until: null } : {}),
    });
    const sessionsEnded = rolesChanged || !nextActive ? await deleteUserSessions(trx, id) : 0;
    await audit(trx, {
      action: 'user.updated', objectType: 'user', objectId: id, organizationId: op.organizationId, actorUserId: op.userId,
      details: { ...(rolesChanged ? { roles: { from: user.roles, to: nextRoles } } : {}), ...(patch.active !== undefined ? { active: nextActive } : {}), displayNameChanged: patch.displayName !== undefined, sessionsEnded },
    });
    return toPublicUser((await findPublicUser(trx, id))!);
  });
}
