// Redeeming an enrollment link (public: the person has no account yet). The token comes in the
// body, never in the URL; both answers carry secrets meant for this person only (no-store).
import { defineRoute } from '../../http/route.ts';
import { SESSION_COOKIE, setSessionCookies } from '../auth/session.service.ts';
import { beginEnrollment, completeEnrollment } from './enrollment.service.ts';
import { completeEnrollmentBody, enrollmentBody } from './user.schema.ts';
import { ok } from '../../http/response.ts';
import { enrollmentDoneView, enrollmentStartView } from './user.schema.ts';

export const enrollmentRoutes = [
  defineRoute({
    method: 'post', path: '/enrollment/begin', access: 'public', whileSealed: true, tags: ['auth'], body: enrollmentBody,
    summary: 'Open an enrollment link: who it is for, its expiry and a fresh TOTP secret to enroll',
    response: ok(enrollmentStartView),
    handler: async ({ ctx, services, body }) => {
      ctx.set('cache-control', 'no-store');
      return beginEnrollment(services, body.token, ctx.ip);
    },
  }),
  defineRoute({
    method: 'post', path: '/enrollment/complete', access: 'public', whileSealed: true, tags: ['auth'], body: completeEnrollmentBody,
    summary: 'Choose the password and confirm the TOTP code; signs in and returns the recovery codes once',
    response: ok(enrollmentDoneView),
    handler: async ({ ctx, services, body }) => {
      const done = await completeEnrollment(services, body, { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, previousToken: ctx.cookies.get(SESSION_COOKIE) });
      setSessionCookies(ctx, services.config, done.issued);
      ctx.set('cache-control', 'no-store');
      return { user: done.user, recoveryCodes: done.recoveryCodes, csrfToken: done.issued.csrfToken };
    },
  }),
];
