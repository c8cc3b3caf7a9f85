import { z } from 'zod';
import { defineRoute } from '../../http/route.ts';
import { withScope } from '../../db/connection.ts';
import { currentContext } from '../../core/context.ts';
import { listAudit } from './audit.repository.ts';
import { audit } from './audit.service.ts';
import { ok } from '../../http/response.ts';
import { auditEntriesView } from './audit.schema.ts';

/** The audit view's filters and paging; the installation audit view takes the same. */
export const auditQuery = z.strictObject({
  objectType: z.string().max(100).optional(),
  objectId: z.string().max(200).optional(),
  actorUserId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  beforeSeq: z.coerce.number().int().min(1).optional(),
});

export const auditRoutes = [
  defineRoute({
    method: 'get', path: '/audit', access: 'audit.read', tags: ['audit'],
    summary: 'Audit entries of the organization, newest first',
    response: ok(auditEntriesView),
    query: auditQuery,
    handler: async ({ services, query }) => {
      const actor = currentContext()!.actor!;
      return withScope(services.db, { organizationId: actor.organizationId, userId: actor.userId, readOnly: true }, async (trx) => {
        const entries = await listAudit(trx, query);
        await audit(trx, { action: 'audit.read', objectType: 'audit_log', details: { count: entries.length } });
        return { entries };
      });
    },
  }),
];
