import anyTest, { type TestFn } from 'ava';
import { randomUUID } from 'node:crypto';
import { startTestApp, setupInstance, ADMIN, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { auditRows, createAccount, stopApp, ownerDb, signIn } from './auth-fixtures.ts';

const test = anyTest as TestFn<{ app: TestApp; admin: Client; adminId: string; orgId: string }>;

test.before(async (t) => {
  t.context = {} as typeof t.context;
  const app = (t.context.app = await startTestApp());
  const { client, userId, organizationId } = await setupInstance(app);
  Object.assign(t.context, { admin: client, adminId: userId, orgId: organizationId });
});

test.after.always(async (t) => {
  await stopApp(t.context?.app);
});

test('an administrator creates a local account: TOTP secret and recovery codes are returned once, secrets stored protected', async (t) => {
  const { app, admin } = t.context;
  const res = await admin.post('/api/v1/users', { username: 'Maria.MFA', displayName: 'Maria', email: 'maria@praxis.example', roles: ['staff', 'staff'], password: 'long enough password' });
  t.is(res.status, 201, res.text);
  t.is(res.body.user.username, 'maria.mfa');
  t.deepEqual(res.body.user.roles, ['staff']);
  t.regex(res.body.totpSecret, /^[A-Z2-7]{32}$/);
  t.true(res.body.otpauthUrl.startsWith('otpauth://totp/'));
  t.is(res.body.recoveryCodes.length, 10);
  const row = await ownerDb(app)('users').where({ id: res.body.user.id }).first();
  t.false(row.totp_secret.toString('latin1').includes(res.body.totpSecret), 'the TOTP secret is encrypted');
  t.false(JSON.stringify(row.recovery_codes).includes(res.body.recoveryCodes[0]), 'recovery codes are hashed');
  const list = await admin.get('/api/v1/users');
  const listed = list.body.users.find((u: { id: string }) => u.id === res.body.user.id);
  t.is(listed.signIn, 'local');
  t.false('totpSecret' in listed || 'password_hash' in listed);
  t.is((await auditRows(app, { action: 'user.created', object_id: res.body.user.id })).length, 1);
  const login = await signIn(app, { id: listed.id, username: 'maria.mfa', password: 'long enough password', totpSecret: res.body.totpSecret, recoveryCodes: [] });
  t.is(login.res.status, 200, login.res.text);
});

test('bad input gets a 4xx naming the field', async (t) => {
  const { admin } = t.context;
  const cases: [unknown, string][] = [
    [{ username: 'x', displayName: 'X', roles: ['staff'], password: 'long enough password' }, 'body.username'],
    [{ username: 'valid-name', displayName: 'X', roles: ['nurse'], password: 'long enough password' }, 'body.roles.0'],
    [{ username: 'valid-name', displayName: 'X', roles: [], password: 'long enough password' }, 'body.roles'],
    [{ username: 'valid-name', displayName: 'X', roles: ['staff'], password: 'short' }, 'body.password'],
    [{ username: 'valid-name', displayName: 'X', roles: ['staff'], password: 'long enough password', isAdmin: true }, 'body.isAdmin'],
  ];
  for (const [body, field] of cases) {
    const res = await admin.post('/api/v1/users', body);
    t.is(res.status, 400, JSON.stringify(body));
    t.true(res.body.details.some((d: { field: string }) => d.field === field), `${field}: ${res.text}`);
  }
  const badId = await admin.patch('/api/v1/users/not-a-uuid', { active: false });
  t.is(badId.status, 400);
  t.is(badId.body.details[0].field, 'params.id');
  const unknown = await admin.patch(`/api/v1/users/${randomUUID()}`, { active: false });
  t.is(unknown.status, 404);
  const empty = await admin.patch(`/api/v1/users/${randomUUID()}`, {});
  t.is(empty.status, 400);
  const taken = await admin.post('/api/v1/users', { username: ADMIN.adminUsername, displayName: 'Dup', roles: ['staff'], password: 'long enough password' });
  t.is(taken.status, 409);
  t.is(taken.body.details[0].field, 'username');
});

test('an administrator can neither remove the own admin role nor deactivate themselves', async (t) => {
  const { app, admin } = t.context;
  const second = await createAccount(admin, ['admin'], 'admin2');
  const { client: me } = await signIn(app, second);
  const demote = await me.patch(`/api/v1/users/${second.id}`, { roles: ['doctor'] });
  t.is(demote.status, 409);
  t.regex(demote.body.message, /own admin role/);
  const off = await me.patch(`/api/v1/users/${second.id}`, { active: false });
  t.is(off.status, 409);
  t.regex(off.body.message, /deactivate yourself/);
  const row = await ownerDb(app)('users').where({ id: second.id }).first('roles', 'active');
  t.deepEqual([row.roles, row.active], [['admin'], true]);
  const rename = await me.patch(`/api/v1/users/${second.id}`, { displayName: 'Chefin', roles: ['admin', 'doctor'] });
  t.is(rename.status, 200, rename.text);
  t.deepEqual(rename.body.user.roles, ['admin', 'doctor']);
  t.is((await me.get('/api/v1/session')).body.user, null, 'the own role change also starts over with a new session');
});

test.serial('the last active administrator cannot be demoted, also not by the CLI operator', async (t) => {
  const { app, adminId, orgId } = t.context;
  const { changeUser } = await import('../../app/api/src/modules/users/user.service.ts');
  const admins = await ownerDb(app)('users').where({ organization_id: orgId, active: true }).whereRaw("'admin' = any(roles)");
  t.deepEqual(admins.map((a) => a.id), [adminId], 'serial tests run first: the set-up admin is the only one');
  const err = await t.throwsAsync(changeUser(app.services, { organizationId: orgId, userId: null, mayManagePlatformRole: true }, adminId, { roles: ['doctor'] }));
  t.regex(err!.message, /at least one active administrator/);
  t.deepEqual((await ownerDb(app)('users').where({ id: adminId }).first('roles')).roles, ['admin']);
});

test('only an installation operator grants platform_owner; an organization admin gets 403', async (t) => {
  const { app } = t.context;
  const second = await createAccount(t.context.admin, ['admin'], 'plain-admin');
  const { client: admin, res: login } = await signIn(app, second);
  t.is(login.status, 200, login.text);
  const res = await admin.post('/api/v1/users', { username: 'sneaky-owner', displayName: 'S', roles: ['platform_owner'], password: 'long enough password' });
  t.is(res.status, 403);
  const u = await createAccount(admin, ['staff']);
  t.is((await admin.patch(`/api/v1/users/${u.id}`, { roles: ['platform_owner'] })).status, 403);
});

test('deactivating and reactivating a user is audited with the change', async (t) => {
  const { app, admin } = t.context;
  const u = await createAccount(admin, ['finance']);
  t.is((await admin.patch(`/api/v1/users/${u.id}`, { active: false })).body.user.active, false);
  t.is((await admin.patch(`/api/v1/users/${u.id}`, { active: true })).body.user.active, true);
  const rows = await auditRows(app, { action: 'user.updated', object_id: u.id });
  t.deepEqual(rows.map((r) => r.details.active), [false, true]);
});

test('a platform owner with the installation operator role lists organizations and creates one with its first administrator', async (t) => {
  const { app } = t.context;
  const owner = await ownerDb(app)('users').insert({
    organization_id: t.context.orgId, username: 'platform-op', display_name: 'Platform', roles: ['platform_owner'],
  }).returning('id');
  await ownerDb(app)('installation_operators').insert({ user_id: owner[0].id });
  const { createSession } = await import('../../app/api/src/modules/auth/session.service.ts');
  const { withScope } = await import('../../app/api/src/db/connection.ts');
  const issued = await withScope(app.services.db, { organizationId: t.context.orgId, userId: owner[0].id }, (trx) =>
    createSession(trx, app.config, { organizationId: t.context.orgId, userId: owner[0].id, roles: ['platform_owner'], method: 'local' }));
  const po = app.client();
  po.cookies.set('pk_session', issued.token);
  po.cookies.set('pk_csrf', issued.csrfToken);
  const created = await po.post('/api/v1/organizations', {
    name: 'Praxis Nord', slug: 'praxis-nord', admin: { username: 'nord-admin', displayName: 'Nord Admin', password: 'long enough password' },
  });
  t.is(created.status, 201, created.text);
  t.is(created.body.admin.recoveryCodes.length, 10);
  const list = await po.get('/api/v1/organizations');
  t.deepEqual(list.body.organizations.map((o: { slug: string }) => o.slug).sort(), ['praxis-nord', 'praxis-test']);
  const dup = await po.post('/api/v1/organizations', { name: 'X', slug: 'praxis-nord', admin: { username: 'other-admin', displayName: 'O', password: 'long enough password' } });
  t.is(dup.status, 409);
  t.is(dup.body.details[0].field, 'slug');
  const nordAdmin = await signIn(app, { id: created.body.admin.id, username: 'nord-admin', password: 'long enough password', totpSecret: created.body.admin.totpSecret, recoveryCodes: [] });
  t.is(nordAdmin.res.status, 200, nordAdmin.res.text);
  const nordUsers = await nordAdmin.client.get('/api/v1/users');
  t.deepEqual(nordUsers.body.users.map((u: { username: string }) => u.username), ['nord-admin'], 'the new organization sees only its own users');
  const crossTenant = await nordAdmin.client.patch(`/api/v1/users/${t.context.adminId}`, { active: false });
  t.is(crossTenant.status, 404, 'an administrator cannot reach users of another organization');
  t.is((await auditRows(app, { action: 'organization.created', organization_id: created.body.organization.id })).length, 1);
  t.is((await auditRows(app, { action: 'organization.created', organization_id: null, object_id: created.body.organization.id })).length, 1, 'and in the installation chain');
  t.is((await nordAdmin.client.get('/api/v1/organizations')).status, 403, 'an organization admin who is no operator cannot list organizations');
});
