import test from 'ava';
import { startTestApp, setupInstance, type TestApp } from '../helpers/app.ts';
import { startTestIdp, type TestIdp } from '../helpers/oidc-provider.ts';
import { claimValues, mapRoles, readClaim } from '../../app/api/src/modules/auth/oidc/oidc.roles.ts';
import { closeOwner, ownerDb, stopApp } from './auth-fixtures.ts';

const MAP = { 'kc-admin': 'admin', 'kc-arzt': 'doctor', 'Praxis Finanzen': 'finance', bogus: 'superuser' };

test('role claims: nested paths (Keycloak realm_access.roles), arrays and strings map to the six roles', (t) => {
  const kc = { realm_access: { roles: ['offline_access', 'kc-arzt'] }, resource_access: { app: { roles: ['kc-admin'] } } };
  t.deepEqual(mapRoles(kc, 'realm_access.roles', MAP), ['doctor']);
  t.deepEqual(mapRoles(kc, 'resource_access.app.roles', MAP), ['admin']);
  t.deepEqual(mapRoles({ roles: 'kc-admin kc-arzt' }, 'roles', MAP), ['admin', 'doctor']);
  t.deepEqual(mapRoles({ roles: 'kc-admin,kc-arzt' }, 'roles', MAP), ['admin', 'doctor']);
  t.deepEqual(mapRoles({ groups: ['Praxis Finanzen'] }, 'groups', MAP), ['finance'], 'array values may contain spaces');
  t.deepEqual(mapRoles({ 'https://praxis.example/roles': ['kc-admin'] }, 'https://praxis.example/roles', MAP), ['admin'], 'a claim name with dots is read whole');
});

test('role claims: unknown values, wrong types and unmapped targets give no role', (t) => {
  t.deepEqual(mapRoles({ roles: ['bogus'] }, 'roles', MAP), [], 'a map target that is not one of the six roles is ignored');
  t.deepEqual(mapRoles({ roles: [{ name: 'kc-admin' }, 42] }, 'roles', MAP), []);
  t.deepEqual(mapRoles({ roles: ['constructor', '__proto__', 'toString'] }, 'roles', MAP), [], 'no prototype keys');
  t.deepEqual(mapRoles({}, 'realm_access.roles', MAP), []);
  t.is(readClaim({ a: ['x'] }, 'a.b'), undefined);
  t.deepEqual(claimValues(undefined), []);
});

const apps: TestApp[] = [];
const idps: TestIdp[] = [];
test.after.always(async () => {
  for (const app of apps) await stopApp(app);
  for (const idp of idps) await idp.close();
});

async function startIdp(): Promise<TestIdp> {
  const idp = await startTestIdp();
  idps.push(idp);
  return idp;
}

async function signInVia(app: TestApp, idp: TestIdp, account: string) {
  const client = app.client();
  const start = await client.get('/api/v1/auth/oidc/login');
  const back = await idp.authorize(start.headers.get('location')!, account);
  const res = await client.get(back.pathname + back.search);
  return { client, location: res.headers.get('location') };
}

test.serial('roles from the userinfo endpoint and a nested claim (Keycloak style)', async (t) => {
  const idp = await startIdp();
  const app = await startTestApp({
    PRAXISKERN_OIDC_ISSUER: idp.issuer, PRAXISKERN_OIDC_CLIENT_ID: idp.clientId, PRAXISKERN_OIDC_CLIENT_SECRET: idp.clientSecret,
    PRAXISKERN_OIDC_ROLE_SOURCE: 'userinfo', PRAXISKERN_OIDC_ROLE_CLAIM: 'realm_access.roles', PRAXISKERN_OIDC_ROLE_MAP: 'kc-arzt=doctor,kc-admin=admin',
  });
  apps.push(app);
  await setupInstance(app);
  idp.init({ publicUrl: app.config.publicUrl, url: app.url });
  idp.accounts.set('kim', { claims: { realm_access: { roles: ['kc-arzt', 'offline_access'] } }, userinfoOnly: ['realm_access'] });
  const { client, location } = await signInVia(app, idp, 'kim');
  t.is(location, '/');
  t.deepEqual((await client.get('/api/v1/session')).body.user.roles, ['doctor']);
});

test.serial('just-in-time provisioning refuses clearly with several organizations, and uses the configured one', async (t) => {
  const idp = await startIdp();
  const env = { PRAXISKERN_OIDC_ISSUER: idp.issuer, PRAXISKERN_OIDC_CLIENT_ID: idp.clientId, PRAXISKERN_OIDC_CLIENT_SECRET: idp.clientSecret };
  const app = await startTestApp(env);
  apps.push(app);
  await setupInstance(app);
  idp.init({ publicUrl: app.config.publicUrl, url: app.url });
  const [second] = await ownerDb(app)('organizations').insert({ name: 'Zweitpraxis', slug: 'zweitpraxis' }).returning('id');
  idp.accounts.set('zoe', { claims: { roles: ['staff'] } });
  t.is((await signInVia(app, idp, 'zoe')).location, '/login?error=oidc_no_organization');
  const audit = await ownerDb(app)('audit_log').where({ action: 'auth.login', outcome: 'failure' }).orderBy('id', 'desc').first();
  t.regex(audit.details.cause, /PRAXISKERN_OIDC_ORGANIZATION_ID/);

  await closeOwner(app);
  await app.stop();
  apps.splice(apps.indexOf(app), 1);
  const restarted = await startTestApp({ ...env, PRAXISKERN_OIDC_ORGANIZATION_ID: second.id }, { db: app.db, dataDir: app.dataDir });
  apps.push(restarted);
  const { client, location } = await signInVia(restarted, idp, 'zoe');
  t.is(location, '/');
  t.is((await client.get('/api/v1/session')).body.user.organizationId, second.id);
  const user = await ownerDb(restarted)('users').where({ oidc_subject: 'zoe' }).first();
  t.is(user.organization_id, second.id);
});

test.serial('the default role map never grants platform_owner: an IdP claiming it gets only organization roles', async (t) => {
  const idp = await startIdp();
  const app = await startTestApp({ PRAXISKERN_OIDC_ISSUER: idp.issuer, PRAXISKERN_OIDC_CLIENT_ID: idp.clientId, PRAXISKERN_OIDC_CLIENT_SECRET: idp.clientSecret });
  apps.push(app);
  await setupInstance(app);
  idp.init({ publicUrl: app.config.publicUrl, url: app.url });
  t.false(Object.values(app.config.oidc.roleMap).includes('platform_owner'));
  idp.accounts.set('pia', { claims: { roles: ['platform_owner'] } });
  t.is((await signInVia(app, idp, 'pia')).location, '/login?error=oidc_no_role', 'platform_owner alone maps to no role');
  idp.accounts.set('paul', { claims: { roles: ['platform_owner', 'staff'] } });
  const { client, location } = await signInVia(app, idp, 'paul');
  t.is(location, '/');
  t.deepEqual((await client.get('/api/v1/session')).body.user.roles, ['staff']);
  t.is((await client.get('/api/v1/organizations')).status, 403);
});
