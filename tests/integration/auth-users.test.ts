import anyTest, { type TestFn } from 'ava';
import { createHash, randomUUID } from 'node:crypto';
import { startTestApp, setupInstance, ADMIN, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { auditRows, createAccount, enroll, stopApp, ownerDb, signIn, tokenOf } from './auth-fixtures.ts';

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

test('an administrator creates a local account: only a one-time link comes back, the person chooses password and TOTP', async (t) => {
  const { app, admin } = t.context;
  const res = await admin.post('/api/v1/users', { username: 'Maria.MFA', displayName: 'Maria', email: 'maria@praxis.example', roles: ['staff', 'staff'] });
  t.is(res.status, 201, res.text);
  t.is(res.body.user.username, 'maria.mfa');
  t.deepEqual(res.body.user.roles, ['staff']);
  t.deepEqual(Object.keys(res.body).sort(), ['enrollment', 'user'], 'no password, TOTP secret or recovery code reaches the administrator');
  t.regex(res.body.enrollment.url, /\/enroll#[A-Za-z0-9_-]{43}$/, 'the token is in the fragment, which browsers never send');
  const hours = (new Date(res.body.enrollment.expiresAt).getTime() - Date.now()) / 3_600_000;
  t.true(hours > 23.9 && hours <= 24, `default lifetime 24 h, got ${hours}`);
  const before = await ownerDb(app)('users').where({ id: res.body.user.id }).first();
  t.is(before.password_hash, null);
  t.is(before.totp_secret, null);
  const pending = await ownerDb(app)('enrollments').where({ user_id: res.body.user.id }).first();
  t.true(pending.token_hash.equals(createHash('sha256').update(tokenOf(res.body.enrollment.url)).digest()), 'only the token hash is stored');

  const enrolled = await enroll(admin.base, res.body.enrollment.url, 'long enough password');
  t.is(enrolled.recoveryCodes.length, 10);
  t.is(enrolled.loginName, 'maria.mfa');
  const row = await ownerDb(app)('users').where({ id: res.body.user.id }).first();
  t.false(row.totp_secret.toString('latin1').includes(enrolled.totpSecret), 'the TOTP secret is encrypted');
  t.false(JSON.stringify(row.recovery_codes).includes(enrolled.recoveryCodes[0]), 'recovery codes are hashed');
  const list = await admin.get('/api/v1/users');
  const listed = list.body.users.find((u: { id: string }) => u.id === res.body.user.id);
  t.is(listed.signIn, 'local');
  t.is(listed.enrollmentExpiresAt, null, 'the link is used up');
  t.false('totpSecret' in listed || 'password_hash' in listed);
  t.is((await auditRows(app, { action: 'user.created', object_id: res.body.user.id })).length, 1);
  const login = await signIn(app, { id: listed.id, username: 'maria.mfa', password: 'long enough password', totpSecret: enrolled.totpSecret, recoveryCodes: [] });
  t.is(login.res.status, 200, login.res.text);
});

test('bad input gets a 4xx naming the field', async (t) => {
  const { admin } = t.context;
  const cases: [unknown, string][] = [
    [{ username: 'x', displayName: 'X', roles: ['staff'] }, 'body.username'],
    [{ username: 'valid-name', displayName: 'X', roles: ['nurse'] }, 'body.roles.0'],
    [{ username: 'valid-name', displayName: 'X', roles: [] }, 'body.roles'],
    [{ username: 'valid-name', displayName: 'X', roles: ['staff'], password: 'an administrator-chosen password' }, 'body.password'],
    [{ username: 'valid-name', displayName: 'X', roles: ['staff'], isAdmin: true }, 'body.isAdmin'],
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
  const taken = await admin.post('/api/v1/users', { username: ADMIN.adminUsername, displayName: 'Dup', roles: ['staff'] });
  t.is(taken.status, 409, 'within the own organization a taken name is a clear conflict');
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
  const err = await t.throwsAsync(changeUser(app.services, { organizationId: orgId, userId: null, mayManagePlatformRole: true, mayManageOperators: true }, adminId, { roles: ['doctor'] }));
  t.regex(err!.message, /at least one active administrator/);
  t.deepEqual((await ownerDb(app)('users').where({ id: adminId }).first('roles')).roles, ['admin']);
});

test('only an installation operator grants platform_owner; an organization admin gets 403', async (t) => {
  const { app } = t.context;
  const second = await createAccount(t.context.admin, ['admin'], 'plain-admin');
  const { client: admin, res: login } = await signIn(app, second);
  t.is(login.status, 200, login.text);
  const res = await admin.post('/api/v1/users', { username: 'sneaky-owner', displayName: 'S', roles: ['platform_owner'] });
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
