import { z } from 'zod';
import { defineRoute } from '../../http/route.ts';
import { withScope } from '../../db/connection.ts';
import { currentContext, DEFAULT_TIME_ZONE } from '../../core/context.ts';
import { audit } from '../audit/audit.service.ts';
import { findUser, updateUser } from '../users/user.repository.ts';
import { clearSessionCookies } from './session.service.ts';
import { deleteSession, deleteUserSessions, loadSession } from './session.repository.ts';
import { endSessionUrl } from './oidc/oidc.logout.ts';
import { ok } from '../../http/response.ts';
import { localeView, logoutEverywhereView, logoutView, sessionView } from './session.schema.ts';

export const sessionRoutes = [
  defineRoute({
    method: 'get', path: '/session', access: 'public', whileSealed: true, tags: ['auth'],
    summary: 'The current user (or null), seal and setup state',
    response: ok(sessionView),
    handler: async ({ services }) => {
      const actor = currentContext()?.actor;
      if (!actor) return { user: null, sealed: services.seal.isSealed };
      const [user, org] = await withScope(services.db, { organizationId: actor.organizationId, userId: actor.userId }, (trx) =>
        Promise.all([findUser(trx, actor.userId), trx('organizations').where({ id: actor.organizationId }).first('name')]),
      );
      return {
        user: !user ? null : {
          id: user.id, displayName: user.display_name, username: user.username, roles: actor.roles, installationRoles: actor.installationRoles ?? [], locale: user.locale,
          organizationId: actor.organizationId, organizationName: org?.name ?? null, timeZone: actor.timeZone ?? DEFAULT_TIME_ZONE, signIn: user.oidc_issuer ? ('oidc' as const) : ('local' as const),
        },
        sealed: services.seal.isSealed,
      };
    },
  }),
  defineRoute({
    method: 'post', path: '/auth/logout', access: 'authenticated', whileSealed: true, tags: ['auth'],
    summary: 'End this session',
    response: ok(logoutView),
    handler: async ({ ctx, services }) => {
      const actor = currentContext()!.actor!;
      const method = await withScope(services.db, { organizationId: actor.organizationId, userId: actor.userId }, async (trx) => {
        const session = await loadSession(trx, actor.sessionId);
        await deleteSession(trx, actor.sessionId);
        await audit(trx, { action: 'auth.logout', objectType: 'session', objectId: actor.sessionId });
        return session?.auth_method;
      });
      clearSessionCookies(ctx, services.config);
      // RP-initiated logout: the browser continues to the IdP's end_session_endpoint.
      return { loggedOut: true, endSessionUrl: method === 'oidc' ? await endSessionUrl(services) : null };
    },
  }),
  defineRoute({
    method: 'post', path: '/auth/logout-everywhere', access: 'authenticated', whileSealed: true, tags: ['auth'],
    summary: 'End all sessions of the current user on every device',
    response: ok(logoutEverywhereView),
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
    response: ok(localeView),
    body: z.strictObject({ locale: z.enum(['de', 'en']) }),
    handler: async ({ services, body }) => {
      const actor = currentContext()!.actor!;
      await withScope(services.db, { organizationId: actor.organizationId, userId: actor.userId }, (trx) => updateUser(trx, actor.userId, { locale: body.locale }));
      return { locale: body.locale };
    },
  }),
];
