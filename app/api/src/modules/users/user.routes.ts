import { defineRoute } from '../../http/route.ts';
import { currentContext } from '../../core/context.ts';
import { changeUser, createLocalUser, listOrganizationUsers, operatorFrom, resetLocalAccount } from './user.service.ts';
import { createUserBody, resetUserBody, updateUserBody, userIdParams } from './user.schema.ts';
import { created, ok } from '../../http/response.ts';
import { createdUserView, userChangedView, usersView } from './user.schema.ts';

const operator = () => operatorFrom(currentContext()!.actor!);

export const userRoutes = [
  defineRoute({
    method: 'get', path: '/users', access: 'users.read', tags: ['users'],
    summary: 'Users of the organization',
    response: ok(usersView),
    handler: async ({ services }) => ({ users: await listOrganizationUsers(services, operator()) }),
  }),
  defineRoute({
    method: 'post', path: '/users', access: 'users.manage', tags: ['users'], body: createUserBody,
    summary: 'Create a local account; returns its one-time enrollment link once (the person chooses password and TOTP)',
    response: created(createdUserView),
    handler: async ({ ctx, services, body }) => {
      const created = await createLocalUser(services, operator(), body);
      ctx.set('cache-control', 'no-store');
      ctx.status = 201;
      ctx.body = created;
    },
  }),
  defineRoute({
    method: 'post', path: '/users/:id/enrollment', access: 'users.manage', tags: ['users'], params: userIdParams, body: resetUserBody,
    summary: 'Reset a local account (kind full, password or totp): the old secret stops working now, its sessions end; returns a new one-time enrollment link once',
    response: ok(createdUserView),
    handler: async ({ ctx, services, params, body }) => {
      ctx.set('cache-control', 'no-store');
      return resetLocalAccount(services, operator(), params.id, body.kind);
    },
  }),
  defineRoute({
    method: 'patch', path: '/users/:id', access: 'users.manage', tags: ['users'], params: userIdParams, body: updateUserBody,
    summary: 'Change roles, display name, e-mail or activation; a role change or deactivation ends the user\'s sessions',
    response: ok(userChangedView),
    handler: async ({ services, params, body }) => ({ user: await changeUser(services, operator(), params.id, body) }),
  }),
];
