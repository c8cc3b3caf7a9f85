import { defineRoute } from '../../http/route.ts';
import { currentContext } from '../../core/context.ts';
import { createOrganization, listAllOrganizations } from './organization.service.ts';
import { createOrganizationBody } from './organization.schema.ts';
import { created, ok } from '../../http/response.ts';
import { createdOrganizationView, organizationsView } from './organization.schema.ts';

const operator = () => {
  const actor = currentContext()!.actor!;
  return { organizationId: actor.organizationId, userId: actor.userId };
};

export const organizationRoutes = [
  defineRoute({
    method: 'get', path: '/organizations', access: 'organizations.manage', tags: ['organizations'],
    summary: 'All organizations of this installation (platform owner)',
    response: ok(organizationsView),
    handler: async ({ services }) => ({ organizations: await listAllOrganizations(services, operator()) }),
  }),
  defineRoute({
    method: 'post', path: '/organizations', access: 'organizations.manage', tags: ['organizations'], body: createOrganizationBody,
    summary: 'Create an organization with its first administrator; returns the administrator\'s one-time enrollment link once',
    response: created(createdOrganizationView),
    handler: async ({ ctx, services, body }) => {
      ctx.set('cache-control', 'no-store');
      ctx.status = 201;
      ctx.body = await createOrganization(services, operator(), body);
    },
  }),
];
