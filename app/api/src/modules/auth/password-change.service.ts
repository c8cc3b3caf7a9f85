// Changing one's own local password: the current password is verified (throttled like a login),
// the new one must be strong enough, and every other session of the user ends.
import type { Services } from '../../http/services.ts';
import type { Actor } from '../../core/context.ts';
import { withScope } from '../../db/connection.ts';
import { conflict, validation } from '../../core/errors.ts';
import { assertNotLocked, clearFailures, recordFailure } from '../../core/rate-limit.ts';
import { audit, auditStandalone } from '../audit/audit.service.ts';
import { findUser, updateUser } from '../users/user.repository.ts';
import { checkPasswordStrength } from '../users/user-credentials.ts';
import { hashPassword, verifyPassword } from './password.ts';
import { deleteOtherSessions } from './session.repository.ts';

export async function changeOwnPassword(services: Services, actor: Actor, current: string, next: string): Promise<number> {
  const bucket = `password:user:${actor.userId}`;
  const scope = { organizationId: actor.organizationId, userId: actor.userId };
  await assertNotLocked(services.db, bucket);
  checkPasswordStrength(next, 'newPassword');
  const user = await withScope(services.db, scope, (trx) => findUser(trx, actor.userId));
  if (!user?.password_hash) throw conflict('This account signs in through the identity provider and has no local password');
  if (!(await verifyPassword(current, user.password_hash))) {
    const { maxFailures, windowSeconds, lockSeconds } = services.config.login;
    await recordFailure(services.db, bucket, { maxFailures, windowSeconds, lockSeconds });
    await auditStandalone(services.db, { action: 'auth.password_changed', outcome: 'failure', objectType: 'user', objectId: actor.userId });
    throw validation('currentPassword', 'is wrong');
  }
  if (current === next) throw validation('newPassword', 'must differ from the current password');
  const passwordHash = await hashPassword(next);
  const ended = await withScope(services.db, scope, async (trx) => {
    await updateUser(trx, actor.userId, { password_hash: passwordHash });
    const n = await deleteOtherSessions(trx, actor.userId, actor.sessionId);
    await audit(trx, { action: 'auth.password_changed', objectType: 'user', objectId: actor.userId, details: { otherSessionsEnded: n } });
    return n;
  });
  await clearFailures(services.db, bucket);
  return ended;
}
