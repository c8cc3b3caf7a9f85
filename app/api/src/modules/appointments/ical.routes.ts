// GET /ical/<token>.ics: the practitioner's calendar feed, outside /api/v1 and its session auth
// (calendar apps cannot log in). The token is the only credential; it is never logged (the
// request log records the route template, not the path).
import Router from '@koa/router';
import type { Context } from 'koa';
import { notFound } from '../../core/errors.ts';
import type { Services } from '../../http/services.ts';
import { feedCalendar } from './ical-feed.service.ts';

const FILE = /^([A-Za-z0-9_-]{43})\.ics$/;

export function icalRouter(services: Services): Router {
  const router = new Router();
  router.get('/ical/:file', async function icalFeed(ctx: Context) {
    const m = FILE.exec(String(ctx.params.file));
    if (!m) throw notFound('Calendar');
    ctx.body = await feedCalendar(services, m[1]);
    ctx.type = 'text/calendar; charset=utf-8';
    ctx.set('cache-control', 'private, no-store');
  });
  return router;
}
