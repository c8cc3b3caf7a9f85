// Installation routes: operators, the installation audit view and the update history. Installation permissions are
// held only through the installation role operator (core/permissions.ts).
import { z } from 'zod';
import { defineRoute } from '../../http/route.ts';
import { authorize } from '../../core/authorize.ts';
import { auditQuery } from '../audit/audit.routes.ts';
import { grantOperator, listInstallationOperators, revokeOperator } from './operator.service.ts';
import { readInstallationAudit } from './installation-audit.service.ts';
import { created, noContent, ok } from '../../http/response.ts';
import { auditEntriesView } from '../audit/audit.schema.ts';
import { grantedOperatorView, operatorsView } from './installation.schema.ts';
import { readUpdateHistory } from '../updates/update-history.service.ts';
import { updateHistoryView } from '../updates/update-history.schema.ts';

/** A user id, "name@organization-slug", or a plain name (the installation's first organization), as at sign-in. */
const userKey = z.string().trim().min(1).max(128).regex(/^[A-Za-z0-9._-]+(@[A-Za-z0-9-]+)?$/, 'a user id, name@organization-slug or a username');

export const installationRoutes = [
  defineRoute({
    method: 'get', path: '/installation/operators', access: 'installation.operators', tags: ['installation'],
    summary: 'The installation operators, with their organization',
    response: ok(operatorsView),
    handler: async ({ services }) => {
      const actor = authorize('installation.operators');
      return { operators: await listInstallationOperators(services, { userId: actor.userId }) };
    },
  }),
  defineRoute({
    method: 'post', path: '/installation/operators', access: 'installation.operators', tags: ['installation'],
    body: z.strictObject({ user: userKey }),
    summary: 'Grant the installation operator role to a user of any organization (by id, name@organization-slug, or a name of the first organization); ends their sessions',
    response: created(grantedOperatorView),
    handler: async ({ ctx, services, body }) => {
      const actor = authorize('installation.operators');
      ctx.status = 201;
      ctx.body = { operator: await grantOperator(services, { userId: actor.userId }, body.user) };
    },
  }),
  defineRoute({
    method: 'delete', path: '/installation/operators/:userId', access: 'installation.operators', tags: ['installation'],
    params: z.strictObject({ userId: z.uuid() }),
    summary: 'Revoke the installation operator role (not one\'s own, not the last active operator); ends their sessions',
    response: noContent('the role is revoked'),
    handler: async ({ services, params }) => {
      const actor = authorize('installation.operators');
      await revokeOperator(services, { userId: actor.userId }, params.userId);
    },
  }),
  defineRoute({
    method: 'get', path: '/installation/audit', access: 'installation.audit', tags: ['installation'], query: auditQuery,
    summary: 'Installation audit entries (seal, passphrase, backups, recovery kit, restore, operators, organizations), newest first',
    response: ok(auditEntriesView),
    handler: async ({ services, query }) => {
      const actor = authorize('installation.audit');
      return { entries: await readInstallationAudit(services, { userId: actor.userId }, query) };
    },
  }),
  defineRoute({
    method: 'get', path: '/installation/updates', access: 'installation.updates', tags: ['installation'],
    summary: 'The running version and the update history (updates and rollbacks recorded by the host updater), newest first',
    response: ok(updateHistoryView),
    handler: async ({ services }) => {
      const actor = authorize('installation.updates');
      return readUpdateHistory(services, { userId: actor.userId });
    },
  }),
];
