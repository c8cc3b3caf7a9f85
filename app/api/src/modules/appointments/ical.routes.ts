// GET /ical/feed.ics?token=…: the practitioner's calendar feed, outside /api/v1 and its session
// auth (calendar apps cannot log in). The token is the only credential. It travels in the query
// string, not the path, because nothing logs query strings here: the app's request log records
// the route template, and the appliance proxy's access log drops the query (Caddyfile) — a token
// in the path would be written to the proxy log and shipped to Loki.
import Router from '@koa/router';
import type { Context } from 'koa';
import { notFound } from '../../core/errors.ts';
import type { Services } from '../../http/services.ts';
import { feedCalendar } from './ical-feed.service.ts';

export const FEED_PATH = '/ical/feed.ics';
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export function icalRouter(services: Services): Router {
  const router = new Router();
  router.get(FEED_PATH, async function icalFeed(ctx: Context) {
    const token = ctx.query.token;
    if (typeof token !== 'string' || !TOKEN.test(token)) throw notFound('Calendar');
    ctx.body = await feedCalendar(services, token);
    ctx.type = 'text/calendar; charset=utf-8';
    ctx.set('cache-control', 'private, no-store');
  });
  return router;
}
