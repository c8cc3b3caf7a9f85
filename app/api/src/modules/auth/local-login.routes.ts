import { z } from 'zod';
import { defineRoute } from '../../http/route.ts';
import { currentContext } from '../../core/context.ts';
import { localLogin } from './local-login.service.ts';
import { changeOwnPassword } from './password-change.service.ts';
import { SESSION_COOKIE, setSessionCookies } from './session.service.ts';
import { ok } from '../../http/response.ts';
import { loginView, passwordChangedView } from './session.schema.ts';

const loginBody = z
  .strictObject({
    username: z.string().trim().min(1).max(130),
    password: z.string().min(1).max(1024),
    totp: z.string().regex(/^\d{6}$/, 'must be six digits').optional(),
    recoveryCode: z.string().min(1).max(64).optional(),
  })
  .refine((b) => b.totp !== undefined || b.recoveryCode !== undefined, { message: 'a TOTP code (or a recovery code) is required', path: ['totp'] });

export const localLoginRoutes = [
  defineRoute({
    method: 'post', path: '/auth/local/login', access: 'public', whileSealed: true, tags: ['auth'], body: loginBody,
    summary: 'Sign in with a local account ("name" or "name@organization-slug"): password plus TOTP code or one recovery code (throttled per source)',
    response: ok(loginView),
    handler: async ({ ctx, services, body }) => {
      const result = await localLogin(services, body, { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, previousToken: ctx.cookies.get(SESSION_COOKIE) });
      setSessionCookies(ctx, services.config, result.issued);
      return { user: result.user, csrfToken: result.issued.csrfToken };
    },
  }),
  defineRoute({
    method: 'post', path: '/auth/local/password', access: 'session.self', tags: ['auth'],
    summary: 'Change one\'s own local password; ends the other sessions of this user',
    response: ok(passwordChangedView),
    body: z.strictObject({ currentPassword: z.string().min(1).max(1024), newPassword: z.string().min(1).max(1024) }),
    handler: async ({ services, body }) => {
      const actor = currentContext()!.actor!;
      const ended = await changeOwnPassword(services, actor, body.currentPassword, body.newPassword);
      return { changed: true, otherSessionsEnded: ended };
    },
  }),
];
