import anyTest, { type TestFn } from 'ava';
import { startTestApp, setupInstance, currentTotp, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { auditRows, countRows, stopApp, createAccount, loginCounter, ownerDb, signIn } from './auth-fixtures.ts';

const test = anyTest as TestFn<{ app: TestApp; admin: Client }>;

test.before(async (t) => {
  t.context = {} as typeof t.context;
  t.context.app = await startTestApp({ PRAXISKERN_SESSION_IDLE_MINUTES: '7' });
  t.context.admin = (await setupInstance(t.context.app)).client;
});

test.after.always(async (t) => {
  await stopApp(t.context?.app);
});

test.serial('a local account signs in with password and TOTP and gets a fresh session', async (t) => {
  const { app, admin } = t.context;
  const a = await createAccount(admin, ['doctor']);
  const before = await loginCounter(app, 'local', 'success');
  const { client, res } = await signIn(app, a);
  t.is(res.status, 200, res.text);
  t.deepEqual(res.body.user.roles, ['doctor']);
  t.truthy(client.cookies.get('pk_session'));
  t.is(res.body.csrfToken, client.cookies.get('pk_csrf'));
  const session = await client.get('/api/v1/session');
  t.is(session.body.user.id, a.id);
  t.is(await loginCounter(app, 'local', 'success'), before + 1);
  // The first entry is the sign-in that completed the enrollment, the second this one.
  const audit = await auditRows(app, { action: 'auth.login', actor_user_id: a.id, outcome: 'success' });
  t.deepEqual(audit.map((r) => r.details.factor), ['enrollment', 'totp']);
  t.is(audit[1].details.method, 'local');
});

test.serial('wrong password, unknown user and wrong TOTP get the same answer and are audited by user id only', async (t) => {
  const { app, admin } = t.context;
  const a = await createAccount(admin, ['staff']);
  const failuresBefore = await loginCounter(app, 'local', 'failure');
  const wrongPassword = await signIn(app, a, { body: { username: a.username, password: 'not the password at all', totp: currentTotp(a.totpSecret) } });
  const unknown = await signIn(app, a, { body: { username: 'nobody-here', password: a.password, totp: currentTotp(a.totpSecret) } });
  const wrongTotp = await signIn(app, a, { body: { username: a.username, password: a.password, totp: currentTotp(a.totpSecret, 5) } });
  for (const r of [wrongPassword, unknown, wrongTotp]) {
    t.is(r.res.status, 401);
    t.false(r.client.cookies.has('pk_session'));
  }
  t.deepEqual(unknown.res.body, wrongPassword.res.body);
  t.deepEqual(wrongTotp.res.body, wrongPassword.res.body);
  t.is(wrongPassword.res.body.error, 'invalid_credentials');
  const mine = await auditRows(app, { action: 'auth.login', actor_user_id: a.id, outcome: 'failure' });
  t.deepEqual(mine.map((r) => r.details.reason), ['password', 'totp']);
  const anonymous = await ownerDb(app)('audit_log').where({ action: 'auth.login', outcome: 'failure' }).whereNull('actor_user_id');
  t.true(anonymous.some((r) => r.details.reason === 'unknown_user'));
  t.false(JSON.stringify(anonymous).includes('nobody-here'), 'the audit log never stores the typed user name');
  t.is(await loginCounter(app, 'local', 'failure'), failuresBefore + 3);
});

test('a TOTP code is accepted once: replaying it fails even with the right password', async (t) => {
  const { app, admin } = t.context;
  const a = await createAccount(admin, ['staff']);
  const code = currentTotp(a.totpSecret, 1);
  const first = await signIn(app, a, { body: { username: a.username, password: a.password, totp: code } });
  t.is(first.res.status, 200, first.res.text);
  const replay = await signIn(app, a, { body: { username: a.username, password: a.password, totp: code } });
  t.is(replay.res.status, 401);
  const reasons = (await auditRows(app, { action: 'auth.login', actor_user_id: a.id, outcome: 'failure' })).map((r) => r.details.reason);
  t.deepEqual(reasons, ['totp_replay']);
});

test('a recovery code replaces the TOTP code exactly once', async (t) => {
  const { app, admin } = t.context;
  const a = await createAccount(admin, ['finance']);
  const body = { username: a.username, password: a.password, recoveryCode: a.recoveryCodes[0].toUpperCase() };
  const first = await signIn(app, a, { body });
  t.is(first.res.status, 200, first.res.text);
  const again = await signIn(app, a, { body });
  t.is(again.res.status, 401);
  const row = await ownerDb(app)('users').where({ id: a.id }).first('recovery_codes');
  t.is(row.recovery_codes.length, a.recoveryCodes.length - 1);
  const other = await signIn(app, a, { body: { ...body, recoveryCode: a.recoveryCodes[1] } });
  t.is(other.res.status, 200, other.res.text);
});

test('a second factor is required: the error names the field', async (t) => {
  const { app } = t.context;
  const res = await app.client().post('/api/v1/auth/local/login', { username: 'admin', password: 'whatever it is' });
  t.is(res.status, 400);
  t.is(res.body.details[0].field, 'body.totp');
  const extra = await app.client().post('/api/v1/auth/local/login', { username: 'admin', password: 'x', totp: '123456', remember: true });
  t.is(extra.status, 400);
  t.is(extra.body.details[0].field, 'body.remember');
});

test('signing in again issues a new session id and ends the old one', async (t) => {
  const { app, admin } = t.context;
  const a = await createAccount(admin, ['coordinator']);
  const { client } = await signIn(app, a);
  const oldToken = client.cookies.get('pk_session')!;
  const second = await signIn(app, a, { client, offset: 1 });
  t.is(second.res.status, 200, second.res.text);
  const newToken = client.cookies.get('pk_session')!;
  t.not(newToken, oldToken);
  const stale = await app.client().get('/api/v1/session', { cookie: `pk_session=${oldToken}` });
  t.is(stale.body.user, null);
  t.is((await client.get('/api/v1/session')).body.user.id, a.id);
  t.is(await countRows(app, 'sessions', { user_id: a.id }), 1);
});

test('log out everywhere ends the sessions on every device', async (t) => {
  const { app, admin } = t.context;
  const a = await createAccount(admin, ['doctor']);
  const laptop = await signIn(app, a);
  const tablet = await signIn(app, a, { offset: 1 });
  t.is((await tablet.client.get('/api/v1/session')).body.user.id, a.id);
  const res = await laptop.client.post('/api/v1/auth/logout-everywhere');
  t.is(res.status, 200);
  t.is(res.body.sessionsEnded, 2);
  t.is((await tablet.client.get('/api/v1/session')).body.user, null);
  t.is((await laptop.client.get('/api/v1/session')).body.user, null);
});

test('a role change by the administrator ends the user\'s sessions', async (t) => {
  const { app, admin } = t.context;
  const a = await createAccount(admin, ['staff']);
  const { client } = await signIn(app, a);
  t.is((await client.get('/api/v1/session')).body.user.id, a.id);
  const res = await admin.patch(`/api/v1/users/${a.id}`, { roles: ['doctor'] });
  t.is(res.status, 200, res.text);
  t.deepEqual(res.body.user.roles, ['doctor']);
  t.is((await client.get('/api/v1/session')).body.user, null);
  const again = await signIn(app, a, { offset: 1 });
  t.deepEqual(again.res.body.user.roles, ['doctor']);
});

test('an idle session expires after the configured minutes', async (t) => {
  const { app, admin } = t.context;
  const a = await createAccount(admin, ['staff']);
  const { client } = await signIn(app, a);
  const row = await ownerDb(app)('sessions').where({ user_id: a.id }).first('id', 'created_at', 'idle_expires_at');
  const idleMs = new Date(row.idle_expires_at).getTime() - new Date(row.created_at).getTime();
  t.true(Math.abs(idleMs - 7 * 60_000) < 5_000, `idle timeout ${idleMs} ms`);
  t.is((await client.get('/api/v1/session')).body.user.id, a.id);
  await ownerDb(app)('sessions').where({ id: row.id }).update({ idle_expires_at: new Date(Date.now() - 1000) });
  t.is((await client.get('/api/v1/session')).body.user, null);
  t.is(await countRows(app, 'sessions', { id: row.id }), 0);
});

test('state-changing requests without the right CSRF token are refused with 403', async (t) => {
  const { app, admin } = t.context;
  const a = await createAccount(admin, ['staff']);
  const { client } = await signIn(app, a);
  const missing = await client.post('/api/v1/auth/logout', undefined, { 'x-csrf-token': '' });
  t.is(missing.status, 403);
  t.is(missing.body.error, 'csrf_failed');
  const wrong = await client.post('/api/v1/auth/logout', undefined, { 'x-csrf-token': 'forged-token-value' });
  t.is(wrong.status, 403);
  const loginWithout = await app.client().post('/api/v1/auth/local/login', { username: a.username, password: a.password, totp: '000000' }, { 'x-csrf-token': '' });
  t.is(loginWithout.status, 403);
  t.is((await client.get('/api/v1/session')).body.user.id, a.id, 'the refused requests changed nothing');
  t.is((await client.post('/api/v1/auth/logout')).status, 200);
});

test('a deactivated account cannot sign in and its sessions end', async (t) => {
  const { app, admin } = t.context;
  const a = await createAccount(admin, ['staff']);
  const { client } = await signIn(app, a);
  t.is((await admin.patch(`/api/v1/users/${a.id}`, { active: false })).status, 200);
  t.is((await client.get('/api/v1/session')).body.user, null);
  const again = await signIn(app, a, { offset: 1 });
  t.is(again.res.status, 401);
  t.is(again.res.body.error, 'invalid_credentials');
});

test('a user changes the own password: the old one stops working, other sessions end', async (t) => {
  const { app, admin } = t.context;
  const a = await createAccount(admin, ['staff']);
  const main = await signIn(app, a);
  const other = await signIn(app, a, { offset: 1 });
  const wrong = await main.client.post('/api/v1/auth/local/password', { currentPassword: 'wrong password!', newPassword: 'a brand new password' });
  t.is(wrong.status, 400);
  t.is(wrong.body.details[0].field, 'currentPassword');
  const short = await main.client.post('/api/v1/auth/local/password', { currentPassword: a.password, newPassword: 'short' });
  t.is(short.body.details[0].field, 'newPassword');
  const res = await main.client.post('/api/v1/auth/local/password', { currentPassword: a.password, newPassword: 'a brand new password' });
  t.is(res.status, 200, res.text);
  t.is(res.body.otherSessionsEnded, 1);
  t.is((await other.client.get('/api/v1/session')).body.user, null);
  t.is((await main.client.get('/api/v1/session')).body.user.id, a.id);
  const stored = await ownerDb(app)('users').where({ id: a.id }).first('password_hash');
  t.regex(stored.password_hash, /^\$argon2id\$/);
  t.false(stored.password_hash.includes(a.password));
});
