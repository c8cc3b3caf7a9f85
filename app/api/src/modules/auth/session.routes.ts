import { z } from 'zod';
import { defineRoute } from '../../http/route.ts';
import { withScope } from '../../db/connection.ts';
import { currentContext } from '../../core/context.ts';
import { audit } from '../audit/audit.service.ts';
import { findUser, updateUser } from '../users/user.repository.ts';
import { clearSessionCookies } from './session.service.ts';
import { deleteSession, deleteUserSessions } from './session.repository.ts';

export const sessionRoutes = [
  defineRoute({
    method: 'get', path: '/session', access: 'public', whileSealed: true, tags: ['auth'],
    summary: 'The current user (or null), seal and setup state',
    handler: async ({ services }) => {
      const actor = currentContext()?.actor;
      if (!actor) return { user: null, sealed: services.seal.isSealed };
      const user = await withScope(services.db, { organizationId: actor.organizationId, userId: actor.userId }, (trx) => findUser(trx, actor.userId));
      return {
        user: user && { id: user.id, displayName: user.display_name, username: user.username, roles: actor.roles, locale: user.locale, organizationId: actor.organizationId },
        sealed: services.seal.isSealed,
      };
    },
  }),
  defineRoute({
    method: 'post', path: '/auth/logout', access: 'authenticated', whileSealed: true, tags: ['auth'],
    summary: 'End this session',
    handler: async ({ ctx, services }) => {
      const actor = currentContext()!.actor!;
      await withScope(services.db, { organizationId: actor.organizationId, userId: actor.userId }, async (trx) => {
        await deleteSession(trx, actor.sessionId);
        await audit(trx, { action: 'auth.logout', objectType: 'session', objectId: actor.sessionId });
      });
      clearSessionCookies(ctx, services.config);
      return { loggedOut: true, endSessionUrl: ctx.state.endSessionUrl ?? null };
    },
  }),
  defineRoute({
    method: 'post', path: '/auth/logout-everywhere', access: 'authenticated', whileSealed: true, tags: ['auth'],
    summary: 'End all sessions of the current user on every device',
    handler: async ({ ctx, services }) => {
      const actor = currentContext()!.actor!;
      const ended = await withScope(services.db, { organizationId: actor.organizationId, userId: actor.userId }, async (trx) => {
        const n = await deleteUserSessions(trx, actor.userId);
        await audit(trx, { action: 'auth.logout_everywhere', objectType: 'user', objectId: actor.userId, details: { sessions: n } });
        return n;
      });
      clearSessionCookies(ctx, services.config);
      return { loggedOut: true, sessionsEnded: ended };
    },
  }),
  defineRoute({
    method: 'patch', path: '/session/locale', access: 'session.self', whileSealed: true, tags: ['auth'],
    summary: 'Change the language of the current user',
    body: z.strictObject({ locale: z.enum(['de', 'en']) }),
    handler: async ({ services, body }) => {
      const actor = currentContext()!.actor!;
      await withScope(services.db, { organizationId: actor.organizationId, userId: actor.userId }, (trx) => updateUser(trx, actor.userId, { locale: body.locale }));
      return { locale: body.locale };
    },
  }),
];
