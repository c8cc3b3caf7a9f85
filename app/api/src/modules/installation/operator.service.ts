// The installation role "operator": who may seal and unseal, change the passphrase, run backups,
// hold the recovery kit, restore and create organizations. Granted at setup to the first
// administrator; afterwards granted and revoked only by an operator (API) or root on the host
// (`praxiskern operator`). Every change is written to the installation audit chain and ends the
// user's sessions, like an organization role change.
import type { Services } from '../../http/services.ts';
import { withScope, type Tx } from '../../db/connection.ts';
import { AppError, conflict, notFound } from '../../core/errors.ts';
import { audit } from '../audit/audit.service.ts';
import { deleteUserSessions } from '../auth/session.repository.ts';
import { switchOrganization } from '../admin/organization.repository.ts';
import { deleteOperator, findUsersByKey, insertOperator, listOperators, setInstallationScope, type OperatorRow } from './operator.repository.ts';

/** Who acts: a signed-in operator (the router and authorize() checked installation.operators), or root via the CLI (null). */
export interface InstallationActor {
  userId: string | null;
}

const toPublic = (o: OperatorRow) => ({
  userId: o.user_id, organizationId: o.organization_id, organizationName: o.organization_name, username: o.username,
  displayName: o.display_name, active: o.active, grantedBy: o.granted_by, grantedAt: o.granted_at,
});
export type PublicOperator = ReturnType<typeof toPublic>;

const inInstallation = <T>(services: Services, by: InstallationActor, fn: (trx: Tx) => Promise<T>) =>
  withScope(services.db, { organizationId: null, userId: by.userId, installation: true }, fn);

export async function listInstallationOperators(services: Services, by: InstallationActor): Promise<PublicOperator[]> {
  return inInstallation(services, by, async (trx) => (await listOperators(trx)).map(toPublic));
}

/** Sessions live under the user's organization's RLS; end them there, in the same transaction. */
async function endSessions(trx: Tx, organizationId: string, userId: string): Promise<number> {
  await switchOrganization(trx, organizationId);
  const n = await deleteUserSessions(trx, userId);
  await switchOrganization(trx, '');
  return n;
}

/** Exactly one account for an id, "name@org-slug" or a plain name (first organization); else 404 or 409. */
async function resolveUserKey(trx: Tx, userKey: string, what = 'User') {
  const [user, ...others] = await findUsersByKey(trx, userKey);
  if (!user) throw notFound(what);
  if (others.length) {
    throw new AppError(409, 'user_ambiguous', 'user: the name exists in more than one organization; write name@organization-slug or the user id', { field: 'user' });
  }
  return user;
}

/** Inside an installation-scope transaction: whether someone other than `userId` remains an active operator. */
async function anotherActiveOperator(trx: Tx, userId: string): Promise<boolean> {
  return (await listOperators(trx)).some((o) => o.active && o.user_id !== userId);
}

/**
 * For an organization's user administration (organization scope): refuses to deactivate the last
 * active installation operator. Enters installation scope for the look-up and leaves it again.
 */
export async function assertOperatorRemains(trx: Tx, userId: string): Promise<void> {
  await setInstallationScope(trx, true);
  const remains = await anotherActiveOperator(trx, userId);
  await setInstallationScope(trx, false);
  if (!remains) throw conflict('The installation must keep at least one active operator', { field: 'active' });
}

export async function grantOperator(services: Services, by: InstallationActor, userKey: string): Promise<PublicOperator> {
  return inInstallation(services, by, async (trx) => {
    const user = await resolveUserKey(trx, userKey);
    if (!user.active) throw conflict('user: is deactivated', { field: 'user' });
    if (!(await insertOperator(trx, user.id, by.userId))) throw conflict('user: is an installation operator already', { field: 'user' });
    const sessionsEnded = await endSessions(trx, user.organization_id, user.id);
    await audit(trx, {
      action: 'installation.operator_granted', objectType: 'user', objectId: user.id, organizationId: null, actorUserId: by.userId,
      details: { organizationId: user.organization_id, sessionsEnded, via: by.userId ? 'api' : 'cli' },
    });
    return toPublic((await listOperators(trx)).find((o) => o.user_id === user.id)!);
  });
}

/** Revokes by user id (API) or by id, "name@org-slug" or plain name (CLI), resolved like a grant. */
export async function revokeOperator(services: Services, by: InstallationActor, userKey: string): Promise<void> {
  await inInstallation(services, by, async (trx) => {
    const user = await resolveUserKey(trx, userKey, 'Installation operator');
    const target = (await listOperators(trx)).find((o) => o.user_id === user.id);
    if (!target) throw notFound('Installation operator');
    const userId = target.user_id;
    if (userId === by.userId) throw conflict('You cannot revoke your own operator role; ask another operator', { field: 'userId' });
    if (!(await anotherActiveOperator(trx, userId))) throw conflict('The installation must keep at least one active operator', { field: 'userId' });
    await deleteOperator(trx, userId);
    const sessionsEnded = await endSessions(trx, target.organization_id, userId);
    await audit(trx, {
      action: 'installation.operator_revoked', objectType: 'user', objectId: userId, organizationId: null, actorUserId: by.userId,
      details: { organizationId: target.organization_id, sessionsEnded, via: by.userId ? 'api' : 'cli' },
    });
  });
}

/** Setup: the first administrator of a fresh installation is its first operator. */
export async function grantFirstOperator(trx: Tx, userId: string): Promise<void> {
  await setInstallationScope(trx, true);
  await insertOperator(trx, userId, null);
  await setInstallationScope(trx, false);
  await audit(trx, { action: 'installation.operator_granted', objectType: 'user', objectId: userId, organizationId: null, actorUserId: userId, details: { via: 'setup' } });
}
