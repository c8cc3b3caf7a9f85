import { z } from 'zod';
import { defineRoute } from '../../http/route.ts';
import { runRetention } from './retention.service.ts';
import { ok } from '../../http/response.ts';
import { retentionRunView } from './retention.schema.ts';

export const retentionRoutes = [
  defineRoute({
    method: 'get', path: '/retention/candidates', access: 'retention.run', tags: ['retention'],
    query: z.strictObject({ limit: z.coerce.number().int().min(1).max(10_000).default(1000) }),
    summary: 'Dry run: records past the retention period that a run would anonymize',
    response: ok(retentionRunView),
    handler: ({ services, query }) => runRetention(services, { dryRun: true, limit: query.limit }),
  }),
  defineRoute({
    method: 'post', path: '/retention/run', access: 'retention.run', tags: ['retention'],
    body: z.strictObject({ dryRun: z.boolean().default(true), limit: z.number().int().min(1).max(10_000).default(1000) }),
    summary: 'Anonymize records past the retention period (dryRun defaults to true)',
    response: ok(retentionRunView),
    handler: ({ services, body }) => runRetention(services, body),
  }),
];
