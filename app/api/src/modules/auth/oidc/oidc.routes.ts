import type { Context } from 'koa';
import { defineRoute } from '../../../http/route.ts';
import type { Services } from '../../../http/services.ts';
import { badRequest, unsupportedMediaType, validation } from '../../../core/errors.ts';
import { assertCleanText } from '../../../core/text.ts';
import { readRaw } from '../../../http/middleware/json-body.ts';
import { auditStandalone } from '../../audit/audit.service.ts';
import { SESSION_COOKIE, setSessionCookies } from '../session.service.ts';
import { isOidcConfigured } from './oidc.client.ts';
import { takeTransaction, writeTransaction } from './oidc.transaction.ts';
import { beginOidcLogin, completeOidcLogin, OidcLoginError } from './oidc.service.ts';
import { backchannelLogout } from './oidc.logout.ts';
import { ok, redirect } from '../../../http/response.ts';
import { backchannelLogoutView, oidcConfigView } from '../session.schema.ts';

const loginError = (code: string) => `/login?error=${encodeURIComponent(code)}`;

async function refuse(ctx: Context, services: Services, err: unknown): Promise<void> {
  const e = err instanceof OidcLoginError ? err : new OidcLoginError('oidc_failed', (err as Error)?.message ?? String(err));
  if (!(err instanceof OidcLoginError)) ctx.state.rc?.logger.error({ err }, 'OIDC callback failed');
  services.metrics.logins.inc({ method: 'oidc', outcome: 'failure' });
  await auditStandalone(services.db, {
    action: 'auth.login', outcome: 'failure', objectType: e.user ? 'user' : undefined, objectId: e.user?.id,
    organizationId: e.user?.organizationId ?? null, actorUserId: e.user?.id ?? null,
    details: { method: 'oidc', error: e.code, cause: e.message.slice(0, 300) },
  });
  ctx.redirect(loginError(e.code));
}

const decoder = new TextDecoder('utf-8', { fatal: true });

async function readLogoutToken(ctx: Context): Promise<string> {
  if (!ctx.is('application/x-www-form-urlencoded')) throw unsupportedMediaType('application/x-www-form-urlencoded');
  let text: string;
  try {
    text = decoder.decode(await readRaw(ctx, 64 * 1024));
  } catch (err) {
    if (err instanceof TypeError) throw badRequest('body: is not valid UTF-8', [{ field: 'body', message: 'is not valid UTF-8' }]);
    throw err;
  }
  const token = new URLSearchParams(text).get('logout_token');
  if (!token) throw validation('logout_token', 'is required', 'required');
  assertCleanText({ logout_token: token }, '');
  return token;
}

export const oidcRoutes = [
  defineRoute({
    method: 'get', path: '/auth/oidc/config', access: 'public', whileSealed: true, tags: ['auth'],
    summary: 'Whether sign-in through the clinic\'s identity provider is configured, and the button label',
    response: ok(oidcConfigView),
    handler: async ({ services }) => ({ enabled: isOidcConfigured(services.config), displayName: services.config.oidc.displayName }),
  }),
  defineRoute({
    method: 'get', path: '/auth/oidc/login', access: 'public', whileSealed: true, tags: ['auth'],
    summary: 'Starts the OIDC sign-in: redirects to the identity provider (code + PKCE + state + nonce)',
    response: redirect('to the identity provider, or back to /login?error=<code>'),
    handler: async ({ ctx, services }) => {
      if (!isOidcConfigured(services.config)) return ctx.redirect(loginError('oidc_not_configured'));
      try {
        const { url, tx } = await beginOidcLogin(services);
        writeTransaction(ctx, services.config, services.appKey, tx);
        ctx.redirect(url);
      } catch (err) {
        await refuse(ctx, services, err);
      }
    },
  }),
  defineRoute({
    method: 'get', path: '/auth/oidc/callback', access: 'public', whileSealed: true, tags: ['auth'],
    summary: 'The identity provider returns here; on success a session starts and the browser goes to /',
    response: redirect('to / when signed in, or to /login?error=<code>'),
    handler: async ({ ctx, services }) => {
      const tx = takeTransaction(ctx, services.config, services.appKey);
      if (!isOidcConfigured(services.config)) return ctx.redirect(loginError('oidc_not_configured'));
      try {
        const issued = await completeOidcLogin(services, tx, ctx.querystring, { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined, previousToken: ctx.cookies.get(SESSION_COOKIE) });
        setSessionCookies(ctx, services.config, issued);
        services.metrics.logins.inc({ method: 'oidc', outcome: 'success' });
        ctx.redirect('/');
      } catch (err) {
        await refuse(ctx, services, err);
      }
    },
  }),
  defineRoute({
    method: 'post', path: '/auth/oidc/backchannel-logout', access: 'public', whileSealed: true, csrfExempt: true, rawBody: 'application/x-www-form-urlencoded', tags: ['auth'],
    summary: 'OIDC Back-Channel Logout: the IdP posts logout_token (form-encoded); the sessions it names end',
    response: ok(backchannelLogoutView),
    handler: async ({ ctx, services }) => {
      ctx.set('cache-control', 'no-store');
      const token = await readLogoutToken(ctx);
      return { sessionsEnded: await backchannelLogout(services, token) };
    },
  }),
];
