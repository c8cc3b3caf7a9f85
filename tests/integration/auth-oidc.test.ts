import anyTest, { type TestFn } from 'ava';
import { startTestApp, setupInstance, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { startTestIdp, type TestIdp } from '../helpers/oidc-provider.ts';
import { auditRows, countRows, stopApp, createAccount, ownerDb, signIn } from './auth-fixtures.ts';

const test = anyTest as TestFn<{ app: TestApp; idp: TestIdp; admin: Client }>;

test.before(async (t) => {
  t.context = {} as typeof t.context;
  const idp = (t.context.idp = await startTestIdp());
  const app = (t.context.app = await startTestApp({
    PRAXISKERN_OIDC_ISSUER: idp.issuer, PRAXISKERN_OIDC_CLIENT_ID: idp.clientId, PRAXISKERN_OIDC_CLIENT_SECRET: idp.clientSecret,
    PRAXISKERN_OIDC_ROLE_MAP: 'praxis-admin=admin,praxis-arzt=doctor,praxis-mfa=staff', PRAXISKERN_OIDC_DISPLAY_NAME: 'Praxis-Login',
  }));
  t.context.admin = (await setupInstance(app)).client;
});

test.after.always(async (t) => {
  await stopApp(t.context?.app);
  await t.context?.idp?.close();
});

let initialized = false;
function ready(t: { context: { app: TestApp; idp: TestIdp } }) {
  if (!initialized) t.context.idp.init({ publicUrl: t.context.app.config.publicUrl, url: t.context.app.url });
  initialized = true;
}

/** The browser's round trip: app → IdP (signs in `account`) → app callback. */
async function oidcLogin(t: { context: { app: TestApp; idp: TestIdp } }, account: string, opts: { client?: Client; tamper?: (u: URL) => void } = {}) {
  ready(t);
  const client = opts.client ?? t.context.app.client();
  const start = await client.get('/api/v1/auth/oidc/login');
  if (start.status !== 302) throw new Error(`login start: ${start.status} ${start.text}`);
  const authorize = new URL(start.headers.get('location')!);
  opts.tamper?.(authorize);
  const back = await t.context.idp.authorize(authorize.href, account);
  const callback = await client.get(back.pathname + back.search);
  return { client, authorize, back, callback, location: callback.headers.get('location') };
}

const userRow = (app: TestApp, sub: string) => ownerDb(app)('users').where({ oidc_subject: sub }).first();

test.serial('discovery is lazy and retried: an unreachable IdP gives a clear error, the next attempt works', async (t) => {
  if (initialized) return t.pass('the IdP was already started by another test');
  const res = await t.context.app.client().get('/api/v1/auth/oidc/login');
  t.is(res.status, 302);
  t.is(res.headers.get('location'), '/login?error=oidc_unavailable');
  ready(t);
  const again = await t.context.app.client().get('/api/v1/auth/oidc/login');
  t.is(again.status, 302);
  t.true(again.headers.get('location')!.startsWith(`${t.context.idp.issuer}/auth?`));
});

test('the login page learns whether OIDC is configured and the button label', async (t) => {
  const res = await t.context.app.client().get('/api/v1/auth/oidc/config');
  t.deepEqual(res.body, { enabled: true, displayName: 'Praxis-Login' });
});

test('the authorization request uses code + PKCE S256 + state + nonce and an encrypted HttpOnly transaction cookie', async (t) => {
  ready(t);
  const client = t.context.app.client();
  const res = await client.get('/api/v1/auth/oidc/login');
  const url = new URL(res.headers.get('location')!);
  t.is(url.searchParams.get('response_type'), 'code');
  t.is(url.searchParams.get('code_challenge_method'), 'S256');
  t.regex(url.searchParams.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/);
  t.truthy(url.searchParams.get('state'));
  t.truthy(url.searchParams.get('nonce'));
  t.is(url.searchParams.get('redirect_uri'), `${t.context.app.config.publicUrl}/api/v1/auth/oidc/callback`);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('pk_oidc_tx='))!;
  t.regex(cookie, /httponly/i);
  t.regex(cookie, /path=\/api\/v1\/auth\/oidc/i);
  t.false(cookie.includes(url.searchParams.get('state')!), 'state is not readable in the cookie');
});

test('happy path: sign-in through the IdP provisions the user just in time with mapped roles', async (t) => {
  const { app, idp } = t.context;
  idp.accounts.set('anna', { claims: { name: 'Dr. Anna Arzt', email: 'anna@praxis.example', roles: ['praxis-arzt', 'unrelated-group'] } });
  const { client, callback, location } = await oidcLogin(t, 'anna');
  t.is(callback.status, 302);
  t.is(location, '/');
  const session = await client.get('/api/v1/session');
  t.deepEqual(session.body.user.roles, ['doctor']);
  t.is(session.body.user.displayName, 'Dr. Anna Arzt');
  const user = await userRow(app, 'anna');
  t.is(user.oidc_issuer, idp.issuer);
  t.is(user.username, null);
  t.is(user.password_hash, null);
  t.true(Date.now() - new Date(user.last_login_at).getTime() < 120_000, 'the sign-in through the IdP is the last login');
  t.is(session.body.user.signIn, 'oidc', 'the UI learns that password and second factor live at the IdP');
  t.is((await auditRows(app, { action: 'user.provisioned', actor_user_id: user.id })).length, 1);
  const logins = await auditRows(app, { action: 'auth.login', actor_user_id: user.id, outcome: 'success' });
  t.is(logins[0].details.method, 'oidc');
  const s = await ownerDb(app)('sessions').where({ user_id: user.id }).first();
  t.is(s.auth_method, 'oidc');
  t.truthy(s.oidc_sid, 'the IdP session id is kept for back-channel logout');
});

test('a callback can be used once: replaying it is refused (the transaction cookie is gone)', async (t) => {
  const { idp } = t.context;
  idp.accounts.set('otto', { claims: { roles: ['praxis-mfa'] } });
  const { client, back, location } = await oidcLogin(t, 'otto');
  t.is(location, '/');
  const replay = await client.get(back.pathname + back.search);
  t.is(replay.headers.get('location'), '/login?error=oidc_state');
  const otherBrowser = await t.context.app.client().get(back.pathname + back.search);
  t.is(otherBrowser.headers.get('location'), '/login?error=oidc_state');
  t.false(otherBrowser.headers.getSetCookie().some((c) => c.startsWith('pk_session=') && !c.startsWith('pk_session=;')));
});

test('users are keyed on issuer + sub, never linked by e-mail', async (t) => {
  const { app, idp, admin } = t.context;
  const local = await createAccount(admin, ['finance'], 'mail');
  await ownerDb(app)('users').where({ id: local.id }).update({ email: 'shared@praxis.example' });
  idp.accounts.set('carla', { claims: { email: 'shared@praxis.example', roles: ['praxis-mfa'] } });
  const { client, location } = await oidcLogin(t, 'carla');
  t.is(location, '/');
  const me = (await client.get('/api/v1/session')).body.user;
  t.not(me.id, local.id);
  t.deepEqual(me.roles, ['staff']);
  t.is(await countRows(app, 'users', { email: 'shared@praxis.example' }), 2);
});

test('roles follow the IdP at every sign-in; a change ends the old sessions', async (t) => {
  const { idp } = t.context;
  idp.accounts.set('bert', { claims: { roles: ['praxis-mfa'] } });
  const first = await oidcLogin(t, 'bert');
  t.deepEqual((await first.client.get('/api/v1/session')).body.user.roles, ['staff']);
  idp.accounts.set('bert', { claims: { roles: ['praxis-admin', 'praxis-arzt'] } });
  const second = await oidcLogin(t, 'bert');
  t.deepEqual((await second.client.get('/api/v1/session')).body.user.roles, ['admin', 'doctor']);
  t.is((await first.client.get('/api/v1/session')).body.user, null);
});

test('strict role mapping: no mapped role refuses the sign-in with a clear error and an audit entry', async (t) => {
  const { app, idp } = t.context;
  idp.accounts.set('eve', { claims: { roles: ['praxis-mfa'] } });
  const before = await oidcLogin(t, 'eve');
  t.is(before.location, '/');
  idp.accounts.set('eve', { claims: { roles: ['guests', 'everyone'] } });
  const { client, location } = await oidcLogin(t, 'eve');
  t.is(location, '/login?error=oidc_no_role');
  t.is((await client.get('/api/v1/session')).body.user, null);
  t.is((await before.client.get('/api/v1/session')).body.user, null, 'the earlier session ended with the roles');
  const user = await userRow(app, 'eve');
  t.deepEqual(user.roles, []);
  const refused = await auditRows(app, { action: 'auth.login', actor_user_id: user.id, outcome: 'failure' });
  t.is(refused[0].details.error, 'oidc_no_role');
  idp.accounts.set('nobody', { claims: { roles: [] } });
  t.is((await oidcLogin(t, 'nobody')).location, '/login?error=oidc_no_role');
  t.is(await userRow(app, 'nobody'), undefined, 'no account is provisioned without a role');
});

test('a tampered state is refused', async (t) => {
  const { app, idp } = t.context;
  idp.accounts.set('sam', { claims: { roles: ['praxis-mfa'] } });
  const { client, location } = await oidcLogin(t, 'sam', { tamper: (u) => u.searchParams.set('state', 'attacker-state') });
  t.is(location, '/login?error=oidc_state');
  t.is((await client.get('/api/v1/session')).body.user, null);
  const rows = await ownerDb(app)('audit_log').where({ action: 'auth.login', outcome: 'failure' }).whereRaw("details->>'error' = 'oidc_state'");
  t.true(rows.some((r) => /state/.test(r.details.cause)));
});

test('a wrong nonce in the ID token is refused', async (t) => {
  const { app, idp } = t.context;
  idp.accounts.set('nina', { claims: { roles: ['praxis-mfa'] } });
  const { client, location } = await oidcLogin(t, 'nina', { tamper: (u) => u.searchParams.set('nonce', 'replayed-nonce-value') });
  t.is(location, '/login?error=oidc_invalid_response');
  t.is((await client.get('/api/v1/session')).body.user, null);
  const rows = await ownerDb(app)('audit_log').where({ action: 'auth.login', outcome: 'failure' }).whereRaw("details->>'error' = 'oidc_invalid_response'");
  t.true(rows.some((r) => /nonce/.test(r.details.cause)), JSON.stringify(rows.map((r) => r.details)));
  t.is(await userRow(app, 'nina'), undefined);
});

test('an IdP error (access denied) comes back as a clear error', async (t) => {
  const { location } = await oidcLogin(t, 'no-such-account');
  t.is(location, '/login?error=oidc_denied');
});

test('a user deactivated in Praxiskern cannot sign in through the IdP', async (t) => {
  const { app, idp, admin } = t.context;
  idp.accounts.set('ida', { claims: { roles: ['praxis-mfa'] } });
  t.is((await oidcLogin(t, 'ida')).location, '/');
  const user = await userRow(app, 'ida');
  t.is((await admin.patch(`/api/v1/users/${user.id}`, { active: false })).status, 200);
  t.is((await oidcLogin(t, 'ida')).location, '/login?error=oidc_inactive');
});

test('logout of an OIDC session returns the IdP end-session URL; a local one returns none', async (t) => {
  const { app, idp, admin } = t.context;
  idp.accounts.set('lena', { claims: { roles: ['praxis-arzt'] } });
  const { client } = await oidcLogin(t, 'lena');
  const res = await client.post('/api/v1/auth/logout');
  t.is(res.status, 200);
  const end = new URL(res.body.endSessionUrl);
  t.is(`${end.origin}${end.pathname}`, `${idp.issuer}/session/end`);
  t.is(end.searchParams.get('client_id'), idp.clientId);
  t.is(end.searchParams.get('post_logout_redirect_uri'), `${app.config.publicUrl}/login`);
  t.is((await client.get('/api/v1/session')).body.user, null);
  const local = await createAccount(admin, ['staff']);
  const { client: lc } = await signIn(app, local);
  t.is((await lc.post('/api/v1/auth/logout')).body.endSessionUrl, null);
});

test('back-channel logout from the provider ends the session it names (by sid); by sub ends all', async (t) => {
  const { app, idp } = t.context;
  idp.accounts.set('dora', { claims: { roles: ['praxis-mfa'] } });
  const a = await oidcLogin(t, 'dora');
  const b = await oidcLogin(t, 'dora');
  const user = await userRow(app, 'dora');
  const sessions = await ownerDb(app)('sessions').where({ user_id: user.id }).orderBy('created_at');
  t.is(sessions.length, 2);
  await idp.backchannelLogout('dora', sessions[0].oidc_sid);
  t.is((await a.client.get('/api/v1/session')).body.user, null);
  t.is((await b.client.get('/api/v1/session')).body.user.id, user.id);
  const token = await idp.signLogoutToken({
    iss: idp.issuer, aud: idp.clientId, iat: Math.floor(Date.now() / 1000), jti: 'all-of-dora', sub: 'dora',
    events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
  });
  const res = await t.context.app.client().post('/api/v1/auth/oidc/backchannel-logout', `logout_token=${token}`, { 'content-type': 'application/x-www-form-urlencoded' });
  t.is(res.status, 200);
  t.is(res.body.sessionsEnded, 1);
  t.is((await b.client.get('/api/v1/session')).body.user, null);
  t.is((await auditRows(app, { action: 'auth.backchannel_logout', actor_user_id: user.id })).length, 2);
});
