// Login throttling (docs/security-model.md): a source that keeps failing is locked out of that
// account, but the account itself is never locked for everyone; failures from many sources only
// space the account's attempts. Client addresses come from X-Forwarded-For only when the peer is
// a trusted proxy.
import test from 'ava';
import { startTestApp, setupInstance, currentTotp, ADMIN, type TestApp } from '../helpers/app.ts';
import { createAccount, ownerDb, stopApp, type LocalAccount } from './auth-fixtures.ts';

const started: TestApp[] = [];

/** Each test runs against its own instance, configured with its own limits. */
async function app(env: Record<string, string>) {
  const a = await startTestApp(env);
  started.push(a);
  const setup = await setupInstance(a);
  return { app: a, admin: setup.client, adminTotp: setup.totpSecret };
}

test.after.always(async () => {
  for (const a of started) await stopApp(a);
});

/** The test server is reached over loopback: with 127.0.0.1 trusted, X-Forwarded-For names the source. */
const BEHIND_PROXY = { PRAXISKERN_TRUSTED_PROXIES: '127.0.0.1' };
const LIMITS = { ...BEHIND_PROXY, PRAXISKERN_LOGIN_MAX_FAILURES: '3', PRAXISKERN_LOGIN_LOCK_SECONDS: '120', PRAXISKERN_LOGIN_WINDOW_SECONDS: '600', PRAXISKERN_LOGIN_ACCOUNT_MAX_FAILURES: '50' };

function attempt(a: TestApp, source: string, body: Record<string, unknown>) {
  return a.client().post('/api/v1/auth/local/login', body, { 'x-forwarded-for': source });
}

const right = (acc: LocalAccount, offset = 0) => ({ username: acc.username, password: acc.password, totp: currentTotp(acc.totpSecret, offset) });
const wrong = (acc: LocalAccount) => ({ username: acc.username, password: 'this is not it!', totp: currentTotp(acc.totpSecret) });

test('after N failures one source is locked out of the account (429, also with the right password); another source still signs in', async (t) => {
  const { app: a, admin } = await app(LIMITS);
  const acc = await createAccount(admin, ['admin']);
  for (let i = 0; i < 3; i++) t.is((await attempt(a, '10.0.0.66', wrong(acc))).status, 401);
  const locked = await attempt(a, '10.0.0.66', right(acc));
  t.is(locked.status, 429);
  t.is(locked.body.error, 'too_many_requests');
  const retryAfter = Number(locked.headers.get('retry-after'));
  t.true(retryAfter > 0 && retryAfter <= 120, `retry-after ${retryAfter}`);

  const breakGlass = await attempt(a, '10.0.0.7', right(acc));
  t.is(breakGlass.status, 200, `the account is not locked for everyone: ${breakGlass.text}`);
  const row = await ownerDb(a)('users').where({ id: acc.id }).first('failed_attempts', 'locked_until');
  t.is(row.locked_until, null);
  const failures = await ownerDb(a)('audit_log').where({ action: 'auth.login', outcome: 'failure', object_id: acc.id });
  t.deepEqual([...new Set(failures.map((f) => f.ip))], ['10.0.0.66'], 'the audit log names the source behind the proxy');

  // The window passes (time travel as the owner instead of waiting two minutes).
  await ownerDb(a)('rate_limits').where('bucket', 'like', 'login:src:10.0.0.66:%').update({ locked_until: new Date(Date.now() - 1000), window_started_at: new Date(Date.now() - 3_600_000) });
  const after = await attempt(a, '10.0.0.66', right(acc, 1));
  t.is(after.status, 200, after.text);
});

test('an unknown user name locks the same way, so a lock reveals nothing', async (t) => {
  const { app: a } = await app(LIMITS);
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await attempt(a, '10.0.0.5', { username: 'ghost-user', password: 'whatever password', totp: '123456' })).status);
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

test('failures from many sources never lock the account: its attempts are spaced, and the break-glass admin still signs in', async (t) => {
  const { app: a, adminTotp } = await app({ ...BEHIND_PROXY, PRAXISKERN_LOGIN_ACCOUNT_MAX_FAILURES: '3', PRAXISKERN_LOGIN_ACCOUNT_INTERVAL_SECONDS: '1' });
  const guess = { username: ADMIN.adminUsername, password: 'a guessed password', totp: '123456' };
  for (let i = 1; i <= 3; i++) t.is((await attempt(a, `10.0.1.${i}`, guess)).status, 401, 'below the account threshold: no delay');

  // A burst from eight new sources: at most one attempt per second gets through (waiting at most
  // three intervals for its turn); the rest are turned away without touching the account.
  const start = Date.now();
  const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => attempt(a, `10.0.2.${i + 1}`, guess)));
  const elapsed = (Date.now() - start) / 1000;
  const statuses = burst.map((r) => r.status).sort();
  t.deepEqual(statuses, [401, 401, 401, 401, 429, 429, 429, 429], statuses.join(','));
  t.true(elapsed >= 2.9, `four spaced attempts take at least three intervals, took ${elapsed} s`);

  const admin = await attempt(a, '10.0.3.1', { username: ADMIN.adminUsername, password: ADMIN.adminPassword, totp: currentTotp(adminTotp) });
  t.is(admin.status, 200, `the real admin signs in despite the attack: ${admin.text}`);
  const row = await ownerDb(a)('users').where({ username: ADMIN.adminUsername }).first('locked_until');
  t.is(row.locked_until, null, 'the account was never locked');
});

test('a forged X-Forwarded-For from an untrusted peer is ignored: throttling and the audit log use the real peer', async (t) => {
  const { app: a } = await app({ PRAXISKERN_LOGIN_IP_MAX_FAILURES: '3', PRAXISKERN_LOGIN_MAX_FAILURES: '50' });
  const statuses = [];
  for (let i = 1; i <= 4; i++) statuses.push((await attempt(a, `203.0.113.${i}`, { username: `forger-${i}`, password: 'some password', totp: '123456' })).status);
  t.deepEqual(statuses, [401, 401, 401, 429], 'every attempt counts against the real peer, whatever the header says');
  const rows = await ownerDb(a)('audit_log').where({ action: 'auth.login', outcome: 'failure' });
  t.is(rows.length, 3);
  t.deepEqual([...new Set(rows.map((r) => r.ip))], ['127.0.0.1']);
  t.is(await ownerDb(a)('rate_limits').where('bucket', 'like', '%203.0.113.%').count<{ n: string }[]>('* as n').first().then((r) => Number(r?.n)), 0);
});
