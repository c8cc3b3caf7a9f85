import { defineRoute } from '../../http/route.ts';
import { ok } from '../../http/response.ts';
import { homeView } from './home.schema.ts';
import { home } from './home.service.ts';

export const homeRoutes = [
  defineRoute({
    method: 'get', path: '/home', access: 'session.self', tags: ['home'],
    summary: "The start page: today's appointments, inbox counts, recently opened patients, tasks, backup and update health — each panel only for roles that hold its permission (null otherwise)",
    response: ok(homeView),
    handler: ({ services }) => home(services),
  }),
];
