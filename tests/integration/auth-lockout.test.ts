import test from 'ava';
import { startTestApp, setupInstance, currentTotp, type TestApp } from '../helpers/app.ts';
import { createAccount, ownerDb, signIn, stopApp } from './auth-fixtures.ts';

const started: TestApp[] = [];

/** Each test runs against its own instance, configured with its own limits. */
async function app(env: Record<string, string>) {
  const a = await startTestApp(env);
  started.push(a);
  return { app: a, admin: (await setupInstance(a)).client };
}

test.after.always(async () => {
  for (const a of started) await stopApp(a);
});

const LIMITS = { PRAXISKERN_LOGIN_MAX_FAILURES: '3', PRAXISKERN_LOGIN_LOCK_SECONDS: '120', PRAXISKERN_LOGIN_WINDOW_SECONDS: '600' };

test('after N failed attempts the account is locked (429, also with the right password) and unlocks after the window', async (t) => {
  const { app: a, admin } = await app(LIMITS);
  const acc = await createAccount(admin, ['staff']);
  const wrong = { username: acc.username, password: 'this is not it!', totp: currentTotp(acc.totpSecret) };
  for (let i = 0; i < 3; i++) t.is((await signIn(a, acc, { body: wrong })).res.status, 401);
  const locked = await signIn(a, acc);
  t.is(locked.res.status, 429);
  t.is(locked.res.body.error, 'too_many_requests');
  const retryAfter = Number(locked.res.headers.get('retry-after'));
  t.true(retryAfter > 0 && retryAfter <= 120, `retry-after ${retryAfter}`);
  const row = await ownerDb(a)('users').where({ id: acc.id }).first('failed_attempts', 'locked_until');
  t.is(row.failed_attempts, 3);
  t.true(new Date(row.locked_until).getTime() > Date.now());

  // The window passes (time travel as the owner instead of waiting two minutes).
  const past = new Date(Date.now() - 1000);
  await ownerDb(a)('rate_limits').where('bucket', 'like', 'login:user:%').update({ locked_until: past, window_started_at: new Date(Date.now() - 3_600_000) });
  await ownerDb(a)('users').where({ id: acc.id }).update({ locked_until: past });
  const after = await signIn(a, acc, { offset: 1 });
  t.is(after.res.status, 200, after.res.text);
  const reset = await ownerDb(a)('users').where({ id: acc.id }).first('failed_attempts', 'locked_until');
  t.is(reset.failed_attempts, 0);
  t.is(reset.locked_until, null);
});

test('an unknown user name locks the same way, so a lock reveals nothing', async (t) => {
  const { app: a } = await app(LIMITS);
  const attempt = () => a.client().post('/api/v1/auth/local/login', { username: 'ghost-user', password: 'whatever password', totp: '123456' });
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await attempt()).status);
  t.deepEqual(statuses, [401, 401, 401, 429]);
});

test('too many failures from one address are throttled across user names', async (t) => {
  const { app: a } = await app({ PRAXISKERN_LOGIN_IP_MAX_FAILURES: '4', PRAXISKERN_LOGIN_MAX_FAILURES: '50' });
  const statuses = [];
  for (let i = 0; i < 5; i++) {
    statuses.push((await a.client().post('/api/v1/auth/local/login', { username: `name-${i}`, password: 'some password', totp: '123456' })).status);
  }
  t.deepEqual(statuses, [401, 401, 401, 401, 429]);
  const admin = await a.client().post('/api/v1/auth/local/login', { username: 'admin', password: 'correct horse battery staple', totp: '123456' });
  t.is(admin.status, 429, 'the address stays throttled for every name');
});
