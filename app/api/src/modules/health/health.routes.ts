import Router from '@koa/router';
import type { Services } from '../../http/services.ts';
import { isInitialized } from '../setup/setup.repository.ts';

/** /healthz: the process is alive. /readyz: the database answers; reports seal and setup state. */
export function healthRouter(services: Services): Router {
  const router = new Router();
  router.get('/healthz', function healthz(ctx) {
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async function readyz(ctx) {
    try {
      const initialized = await isInitialized(services.db);
      ctx.body = { status: 'ok', database: 'ok', sealed: services.seal.isSealed, initialized, version: services.version };
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'unavailable', database: 'unreachable', sealed: services.seal.isSealed };
    }
  });
  return router;
}
