import { z } from 'zod';
import { defineRoute } from '../../http/route.ts';
import { withScope } from '../../db/connection.ts';
import { currentContext } from '../../core/context.ts';
import { listAudit, userNames } from './audit.repository.ts';
import { audit } from './audit.service.ts';
import { ok } from '../../http/response.ts';
import { auditEntriesView } from './audit.schema.ts';

/** The audit view's filters and paging; the installation audit view takes the same. */
export const auditQuery = z.strictObject({
  objectType: z.string().max(100).optional(),
  objectId: z.string().max(200).optional(),
  actorUserId: z.uuid().optional(),
  action: z.string().regex(/^[a-z0-9_.]{1,100}$/, 'must be an action name such as patient.read').optional(),
  patientId: z.uuid().optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  beforeSeq: z.coerce.number().int().min(1).optional(),
});

export const auditRoutes = [
  defineRoute({
    method: 'get', path: '/audit', access: 'audit.read', tags: ['audit'],
    summary: 'Audit entries of the organization, newest first; filters by action, user, patient and time; user names resolved within the organization',
    response: ok(auditEntriesView),
    query: auditQuery,
    handler: async ({ services, query }) => {
      const actor = currentContext()!.actor!;
      return withScope(services.db, { organizationId: actor.organizationId, userId: actor.userId, readOnly: true }, async (trx) => {
        const entries = await listAudit(trx, query);
        const names = await userNames(trx, entries.flatMap((e) => [e.actor_user_id, e.object_type === 'user' ? e.object_id : null]).filter((x): x is string => !!x));
        const label = (id: string | null) => {
          const u = id ? names.get(id) : undefined;
          return u ? (u.username ? `${u.displayName} (${u.username})` : u.displayName) : null;
        };
        const filters = Object.fromEntries(Object.entries({ action: query.action, actorUserId: query.actorUserId, patientId: query.patientId, objectType: query.objectType, objectId: query.objectId, from: query.from, to: query.to }).filter(([, v]) => v !== undefined));
        await audit(trx, { action: 'audit.read', objectType: 'audit_log', details: { count: entries.length, ...(Object.keys(filters).length ? { filters } : {}) } });
        return { entries: entries.map((e) => ({ ...e, actor_name: label(e.actor_user_id), object_name: e.object_type === 'user' ? label(e.object_id) : null })) };
      });
    },
  }),
];
