import anyTest, { type TestFn } from 'ava';
import { startTestApp, setupInstance, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { startFakeIdp, type Defect, type FakeIdp } from './auth-fake-idp.ts';
import { ownerDb, stopApp } from './auth-fixtures.ts';

const test = anyTest as TestFn<{ app: TestApp; idp: FakeIdp }>;

test.before(async (t) => {
  t.context = {} as typeof t.context;
  const idp = (t.context.idp = await startFakeIdp());
  const app = (t.context.app = await startTestApp({ PRAXISKERN_OIDC_ISSUER: idp.issuer, PRAXISKERN_OIDC_CLIENT_ID: idp.clientId, PRAXISKERN_OIDC_CLIENT_SECRET: idp.clientSecret }));
  await setupInstance(app);
});

test.after.always(async (t) => {
  await stopApp(t.context?.app);
  await t.context?.idp?.close();
});

async function login(t: { context: { app: TestApp } }, sub: string, defect: Defect, client: Client = t.context.app.client()) {
  const start = await client.get('/api/v1/auth/oidc/login');
  const authorize = new URL(start.headers.get('location')!);
  authorize.searchParams.set('defect', defect);
  authorize.searchParams.set('login_hint', sub);
  const idpRes = await fetch(authorize, { redirect: 'manual' });
  const back = new URL(idpRes.headers.get('location')!);
  const callback = await client.get(back.pathname + back.search);
  return { client, location: callback.headers.get('location') };
}

async function causeFor(app: TestApp, since: number): Promise<string> {
  const row = await ownerDb(app)('audit_log').where({ action: 'auth.login', outcome: 'failure' }).andWhere('id', '>', since).orderBy('id', 'desc').first();
  return row ? `${row.details.error}: ${row.details.cause}` : 'no audit entry';
}

const lastAuditId = async (app: TestApp) => Number((await ownerDb(app)('audit_log').max('id as m').first())?.m ?? 0);

test('positive control: a well-formed ID token from the hand-written IdP signs in', async (t) => {
  const { client, location } = await login(t, 'good-user', 'none');
  t.is(location, '/');
  t.deepEqual((await client.get('/api/v1/session')).body.user.roles, ['doctor']);
});

const refusals: [string, Defect, RegExp][] = [
  ['a wrong issuer', 'wrong_issuer', /"iss"/],
  ['a wrong audience', 'wrong_audience', /"aud"/],
  ['an expired ID token', 'expired', /"exp"|expired/],
  ['an unsigned ID token (alg: none)', 'alg_none', /alg/],
  ['an ID token signed with a foreign key', 'wrong_key', /signature/],
];

for (const [what, defect, cause] of refusals) {
  test.serial(`${what} is refused, audited and starts no session`, async (t) => {
    const { app } = t.context;
    const since = await lastAuditId(app);
    const { client, location } = await login(t, `user-${defect}`, defect);
    t.is(location, '/login?error=oidc_invalid_response');
    t.is((await client.get('/api/v1/session')).body.user, null);
    const c = await causeFor(app, since);
    t.regex(c, cause);
    t.is(await ownerDb(app)('users').where({ oidc_subject: `user-${defect}` }).first(), undefined);
  });
}

const EVENT = { 'http://schemas.openid.net/event/backchannel-logout': {} };
const post = (t: { context: { app: TestApp } }, body: string, type = 'application/x-www-form-urlencoded') =>
  t.context.app.client().post('/api/v1/auth/oidc/backchannel-logout', body, { 'content-type': type });

test.serial('back-channel logout: forged and malformed logout tokens are refused with 400; a valid one ends the session', async (t) => {
  const { idp } = t.context;
  const { client, location } = await login(t, 'logout-user', 'none');
  t.is(location, '/');
  const now = Math.floor(Date.now() / 1000);
  const good = { iss: idp.issuer, aud: idp.clientId, iat: now, jti: `j-${now}`, sid: 'sid-logout-user', events: EVENT };
  const bad: [string, Promise<string>][] = [
    ['wrong key', idp.sign(good, { key: idp.otherKey })],
    ['wrong issuer', idp.sign({ ...good, iss: 'https://evil.example' })],
    ['wrong audience', idp.sign({ ...good, aud: 'someone-else' })],
    ['no events claim', idp.sign({ ...good, events: undefined })],
    ['contains a nonce', idp.sign({ ...good, nonce: 'n' })],
    ['neither sid nor sub', idp.sign({ ...good, sid: undefined })],
    ['too old', idp.sign({ ...good, iat: now - 3600 })],
    ['alg none', Promise.resolve(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(good)).toString('base64url')}.`)],
  ];
  for (const [what, token] of bad) {
    const res = await post(t, `logout_token=${await token}`);
    t.is(res.status, 400, `${what}: ${res.text}`);
    t.is(res.body.error, 'invalid_logout_token', what);
  }
  t.is((await client.get('/api/v1/session')).body.user?.roles?.[0], 'doctor', 'refused tokens ended nothing');
  const missing = await post(t, 'other=1');
  t.is(missing.status, 400);
  t.is(missing.body.details[0].field, 'logout_token');
  t.is((await post(t, '{"logout_token":"x"}', 'application/json')).status, 415);
  const ok = await post(t, `logout_token=${await idp.sign(good, { typ: 'logout+jwt' })}`);
  t.is(ok.status, 200, ok.text);
  t.is(ok.headers.get('cache-control'), 'no-store');
  t.is(ok.body.sessionsEnded, 1);
  t.is((await client.get('/api/v1/session')).body.user, null);
});
