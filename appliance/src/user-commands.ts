// `praxiskern user list|add|set-roles|deactivate`: thin commands over the same user service the
// API uses, acting as the operator on the server (audited with no user id, details via "cli").
import { readFileSync } from 'node:fs';
import { loadConfig } from '@praxiskern/api/core/config.ts';
import { runWithContext, systemContext } from '@praxiskern/api/core/context.ts';
import { zodIssues } from '@praxiskern/api/http/router.ts';
import { resolveDatabase, migrate, buildServices } from '@praxiskern/api/server.ts';
import { createDb, withScope } from '@praxiskern/api/db/connection.ts';
import type { Services } from '@praxiskern/api/http/services.ts';
import { changeUser, createLocalUser, listOrganizationUsers, type Operator } from '@praxiskern/api/modules/users/user.service.ts';
import { createUserBody, updateUserBody } from '@praxiskern/api/modules/users/user.schema.ts';
import { findLocalUserRef, findUserByIdOrUsername } from '@praxiskern/api/modules/users/user.repository.ts';
import { findOrganizationBySlug, listOrganizations } from '@praxiskern/api/modules/admin/organization.repository.ts';
import { output, fail, type Command, type Values } from './command.ts';

async function withServices<T>(fn: (services: Services) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const urls = await resolveDatabase(config);
  const db = createDb(urls.appUrl, 2);
  try {
    if (urls.ownerUrl) await migrate(urls.ownerUrl);
    return await runWithContext(systemContext('cli'), () => fn(buildServices(config, db)));
  } finally {
    await db.destroy();
    await urls.embedded?.stop();
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

const operator = (organizationId: string): Operator => ({ organizationId, userId: null, mayManagePlatformRole: true });

function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: import('zod').ZodError } }, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) fail(zodIssues(r.error, '').map((i) => `--${i.field.split('.')[0].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${i.message}`).join('; '));
  return r.data;
}

const rolesOf = (v: Values) => (typeof v.roles === 'string' ? v.roles.split(',').map((r) => r.trim()).filter(Boolean) : undefined);

/** A user named by username (any organization) or by id (in --org or the only organization). */
async function resolveUser(services: Services, key: string | undefined, org: unknown) {
  if (!key) fail('name the user: praxiskern user <command> USERNAME|ID');
  const ref = await findLocalUserRef(services.db, key);
  const orgId = ref?.organization_id ?? (await organizationId(services, org));
  const user = await withScope(services.db, { organizationId: orgId }, (trx) => findUserByIdOrUsername(trx, key));
  return user ?? fail(`no user "${key}"`);
}

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
  usage: `praxiskern user add --username NAME --display-name NAME --roles ROLE[,ROLE] --password-file FILE [--email MAIL] [--org SLUG] [--json]
Creates a local account and prints its TOTP secret and recovery codes once.`,
  options: { username: { type: 'string' }, 'display-name': { type: 'string' }, roles: { type: 'string' }, 'password-file': { type: 'string' }, email: { type: 'string' }, org: { type: 'string' } },
  run: (v) => withServices(async (services) => {
    if (typeof v['password-file'] !== 'string') fail('--password-file is required');
    const password = readFileSync(v['password-file'], 'utf8').replace(/\r?\n$/, '');
    const input = parse(createUserBody, { username: v.username, displayName: v['display-name'] ?? v.username, roles: rolesOf(v), password, ...(v.email ? { email: v.email } : {}) });
    const created = await createLocalUser(services, operator(await organizationId(services, v.org)), input);
    output(v, created, `Created ${created.user.username} (${created.user.id}) with roles ${created.user.roles.join(',')}.\nTOTP secret: ${created.totpSecret}\nRecovery codes (store them offline):\n  ${created.recoveryCodes.join('\n  ')}`);
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

export const userCommands: Record<string, Command> = { 'user list': list, 'user add': add, 'user set-roles': setRoles, 'user deactivate': deactivate };
