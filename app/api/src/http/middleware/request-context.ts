import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { runWithContext, type RequestContext } from '../../core/context.ts';
import { rootLogger } from '../../core/logger.ts';
import type { Metrics } from '../metrics.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{8,100}$/;

/** Request id (accepted from the proxy when well-formed), logger, AsyncLocalStorage, duration metric. */
export function requestContext(metrics: Metrics) {
  return async function requestContextMiddleware(ctx: Context, next: Next) {
    const incoming = ctx.get('x-request-id');
    const requestId = REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.set('x-request-id', requestId);
    const rc: RequestContext = {
      requestId,
      ip: ctx.ip,
      userAgent: ctx.get('user-agent') || undefined,
      logger: rootLogger.child({ requestId }),
      actor: undefined,
    };
    ctx.state.rc = rc;
    const end = metrics.httpDuration.startTimer();
    try {
      await runWithContext(rc, next);
    } finally {
      const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? (ctx.path.startsWith('/api/') ? 'unmatched' : 'static');
      end({ method: ctx.method, route: String(route), status: String(ctx.status) });
      rc.logger.info({ method: ctx.method, route, status: ctx.status }, 'request');
    }
  };
}
