// `praxiskern user list|add|reset|set-roles|deactivate`: thin commands over the same user service
// the API uses, acting as the operator on the server (audited with no user id, details via "cli").
// New and reset local accounts get a one-time enrollment link: the person chooses password and TOTP.
import { loadConfig } from '@praxiskern/api/core/config.ts';
import { runWithContext, systemContext } from '@praxiskern/api/core/context.ts';
import { zodIssues } from '@praxiskern/api/http/router.ts';
import { migrate, buildServices } from '@praxiskern/api/server.ts';
import { createDb, withScope } from '@praxiskern/api/db/connection.ts';
import type { Services } from '@praxiskern/api/http/services.ts';
import { changeUser, createLocalUser, listOrganizationUsers, resetLocalAccount, type Operator } from '@praxiskern/api/modules/users/user.service.ts';
import { createUserBody, updateUserBody } from '@praxiskern/api/modules/users/user.schema.ts';
import { findUserByIdOrUsername, parseLoginName, resolveLogin } from '@praxiskern/api/modules/users/user.repository.ts';
import { findOrganizationBySlug, listOrganizations } from '@praxiskern/api/modules/admin/organization.repository.ts';
import { output, fail, type Command, type Values } from './command.ts';
import { cliDatabase } from './database.ts';

export async function withServices<T>(fn: (services: Services) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const urls = await cliDatabase(config);
  const db = createDb(urls.appUrl, 2);
  try {
    if (urls.ownerUrl) await migrate(urls.ownerUrl);
    return await runWithContext(systemContext('cli'), () => fn(buildServices(config, db)));
  } finally {
    await db.destroy();
    await urls.stop();
  }
}

/** The organization from --org SLUG, or the only one there is. */
async function organizationId(services: Services, slug: unknown): Promise<string> {
  return withScope(services.db, { organizationId: null, platform: true }, async (trx) => {
    if (typeof slug === 'string') return (await findOrganizationBySlug(trx, slug))?.id ?? fail(`no organization with slug "${slug}"`);
    const all = await listOrganizations(trx);
    if (all.length !== 1) fail(all.length ? `there are ${all.length} organizations: pass --org SLUG (${all.map((o) => o.slug).join(', ')})` : 'Praxiskern is not set up yet (praxiskern init)');
    return all[0].id;
  });
}

const operator = (organizationId: string): Operator => ({ organizationId, userId: null, mayManagePlatformRole: true, mayManageOperators: true });

function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: import('zod').ZodError } }, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) fail(zodIssues(r.error, '').map((i) => `--${i.field.split('.')[0].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${i.message}`).join('; '));
  return r.data;
}

const rolesOf = (v: Values) => (typeof v.roles === 'string' ? v.roles.split(',').map((r) => r.trim()).filter(Boolean) : undefined);

/** A user named by sign-in name ("name" or "name@org-slug") or by id, in --org or the only organization. */
async function resolveUser(services: Services, key: string | undefined, org: unknown) {
  if (!key) fail('name the user: praxiskern user <command> USERNAME|ID');
  const ref = typeof org === 'string' ? undefined : await resolveLogin(services.db, key);
  const orgId = ref?.organizationId ?? (await organizationId(services, org));
  const name = key.includes('@') ? parseLoginName(key).username : key;
  const user = await withScope(services.db, { organizationId: orgId }, (trx) => findUserByIdOrUsername(trx, name));
  return user ?? fail(`no user "${key}"`);
}

const handover = (e: { url: string; expiresAt: Date }) =>
  `One-time enrollment link (valid until ${e.expiresAt.toISOString()}); hand it to the person only, who chooses password and TOTP:\n  ${e.url}`;

const list: Command = {
  usage: 'praxiskern user list [--org SLUG] [--json]   users of the organization',
  options: { org: { type: 'string' } },
  run: (v) => withServices(async (services) => {
    const users = await listOrganizationUsers(services, operator(await organizationId(services, v.org)));
    const lines = users.map((u) => `${u.id}  ${(u.username ?? '(oidc)').padEnd(20)} ${u.active ? 'active  ' : 'inactive'} ${u.roles.join(',')}  ${u.displayName}`);
    output(v, { users }, lines.join('\n') || 'No users.');
    return 0;
  }),
};

const add: Command = {
  usage: `praxiskern user add --username NAME --display-name NAME --roles ROLE[,ROLE] [--email MAIL] [--org SLUG] [--json]
Creates a local account and prints its one-time enrollment link.`,
  options: { username: { type: 'string' }, 'display-name': { type: 'string' }, roles: { type: 'string' }, email: { type: 'string' }, org: { type: 'string' } },
  run: (v) => withServices(async (services) => {
    const input = parse(createUserBody, { username: v.username, displayName: v['display-name'] ?? v.username, roles: rolesOf(v), ...(v.email ? { email: v.email } : {}) });
    const created = await createLocalUser(services, operator(await organizationId(services, v.org)), input);
    output(v, created, `Created ${created.user.username} (${created.user.id}) with roles ${created.user.roles.join(',')}.\n${handover(created.enrollment)}`);
    return 0;
  }),
};

const reset: Command = {
  usage: `praxiskern user reset USERNAME|ID [--kind full|password|totp] [--org SLUG] [--json]
Removes the account's password and TOTP (--kind password or totp: only that one; the person confirms with
the other), ends its sessions and prints a new one-time enrollment link.`,
  options: { org: { type: 'string' }, kind: { type: 'string' } },
  run: (v, positionals) => withServices(async (services) => {
    const kind = v.kind ?? 'full';
    if (kind !== 'full' && kind !== 'password' && kind !== 'totp') fail('--kind: must be full, password or totp');
    const target = await resolveUser(services, positionals[0], v.org);
    const done = await resetLocalAccount(services, operator(target.organization_id), target.id, kind);
    output(v, done, `${done.user.username} is reset; sessions ended.\n${handover(done.enrollment)}`);
    return 0;
  }),
};

const setRoles: Command = {
  usage: 'praxiskern user set-roles USERNAME|ID --roles ROLE[,ROLE] [--org SLUG] [--json]   replace the roles; ends the user\'s sessions',
  options: { roles: { type: 'string' }, org: { type: 'string' } },
  run: (v, positionals) => withServices(async (services) => {
    const patch = parse(updateUserBody, { roles: rolesOf(v) ?? [] });
    const target = await resolveUser(services, positionals[0], v.org);
    const user = await changeUser(services, operator(target.organization_id), target.id, patch);
    output(v, { user }, `${user.username ?? user.id}: roles ${user.roles.join(',')}; sessions ended.`);
    return 0;
  }),
};

const deactivate: Command = {
  usage: 'praxiskern user deactivate USERNAME|ID [--org SLUG] [--json]   block sign-in and end the user\'s sessions',
  options: { org: { type: 'string' } },
  run: (v, positionals) => withServices(async (services) => {
    const target = await resolveUser(services, positionals[0], v.org);
    const user = await changeUser(services, operator(target.organization_id), target.id, { active: false });
    output(v, { user }, `${user.username ?? user.id} is deactivated; sessions ended.`);
    return 0;
  }),
};

export const userCommands: Record<string, Command> = { 'user list': list, 'user add': add, 'user reset': reset, 'user set-roles': setRoles, 'user deactivate': deactivate };
