// Koa composition: client address → context → headers → errors → CSRF cookie → health → API → static UI → 404.
import Koa from 'koa';
import { randomBytes } from 'node:crypto';
import type { Context, Next } from 'koa';
import { requestContext } from './middleware/request-context.ts';
import { clientAddressMiddleware } from './middleware/client-address.ts';
import { errorHandler } from './middleware/errors.ts';
import { securityHeaders } from './middleware/security-headers.ts';
import { buildRouter } from './router.ts';
import { openApiDocument, type AnyRoute } from './route.ts';
import { serveWeb } from './static.ts';
import { withResponseCheck } from './response-check.ts';
import { healthRouter } from '../modules/health/health.routes.ts';
import { CSRF_COOKIE } from '../modules/auth/session.service.ts';
import { ROUTES } from './routes.ts';
import { icalRouter } from '../modules/appointments/ical.routes.ts';
import { whatsappWebhook } from '../modules/messaging/webhook.routes.ts';
import { stripeWebhook } from '../modules/finance/stripe.webhook.ts';
import { log } from '../core/context.ts';
import type { Services } from './services.ts';

function ensureCsrfCookie(secure: boolean) {
  return async function csrfCookie(ctx: Context, next: Next) {
    // TLS ends at the reverse proxy: Secure cookies are sent even though this hop is plain HTTP.
    if (secure) (ctx.cookies as unknown as { secure: boolean }).secure = true;
    if (!ctx.cookies.get(CSRF_COOKIE)) {
      ctx.cookies.set(CSRF_COOKIE, randomBytes(24).toString('base64url'), { httpOnly: false, sameSite: 'strict', secure, path: '/' });
    }
    await next();
  };
}

function notFoundHandler() {
  return async function notFound(ctx: Context) {
    ctx.status = 404;
    ctx.body = { error: 'not_found', message: `No route for ${ctx.method} ${ctx.path}` };
  };
}

export function createApp(services: Services, routes: AnyRoute[] = ROUTES): Koa {
  // Koa's own proxy trust would believe X-Forwarded-* from any peer; the client address comes
  // from clientAddressMiddleware, which believes only PRAXISKERN_TRUSTED_PROXIES.
  const app = new Koa({ proxy: false });
  // Errors after the response started (a browser aborting a download) are not server faults.
  app.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.code === 'ERR_STREAM_PREMATURE_CLOSE') return;
    log().error({ err }, 'response stream error');
  });
  const hsts = services.config.publicUrl.startsWith('https://');
  const openapi = openApiDocument(routes, services.version);
  const api = buildRouter(services, services.config.checkResponses ? routes.map(withResponseCheck) : routes);
  api.get('/openapi.json', function openApi(ctx) {
    ctx.body = openapi;
  });
  const health = healthRouter(services);
  app.use(clientAddressMiddleware(services.config.trustedProxies));
  app.use(requestContext(services.metrics));
  app.use(securityHeaders(hsts));
  app.use(errorHandler());
  app.use(ensureCsrfCookie(services.config.secureCookies));
  app.use(health.routes());
  app.use(icalRouter(services).routes());
  app.use(whatsappWebhook(services));
  app.use(stripeWebhook(services));
  app.use(api.routes());
  app.use(api.allowedMethods({ throw: false }));
  app.use(serveWeb(services.config.webRoot));
  app.use(notFoundHandler());
  return app;
}

/** The worker's HTTP port: /healthz and /readyz only. The API is served by the process without owner credentials. */
export function createHealthApp(services: Services): Koa {
  const app = new Koa();
  const health = healthRouter(services);
  app.use(errorHandler());
  app.use(health.routes());
  app.use(notFoundHandler());
  return app;
}
