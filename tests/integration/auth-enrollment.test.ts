// One-time enrollment links (issue 8, item 2): single use, expiry, replacement by a reset, audit
// with ids only; the platform owner never holds an organization account's credentials; usernames
// of other organizations stay invisible.
import anyTest, { type TestFn } from 'ava';
import { withScope } from '../../app/api/src/db/connection.ts';
import { createSession } from '../../app/api/src/modules/auth/session.service.ts';
import { startTestApp, setupInstance, currentTotp, ADMIN, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { auditRows, createAccount, enroll, ownerDb, signIn, stopApp, tokenOf } from './auth-fixtures.ts';
import { samplePatient } from './patients-fixtures.ts';

const test = anyTest as TestFn<{ app: TestApp; admin: Client; adminId: string; orgId: string; totpSecret: string }>;

test.before(async (t) => {
  t.context = {} as typeof t.context;
  const app = (t.context.app = await startTestApp());
  const { client, userId, organizationId, totpSecret } = await setupInstance(app);
  Object.assign(t.context, { admin: client, adminId: userId, orgId: organizationId, totpSecret });
});

test.after.always(async (t) => {
  await stopApp(t.context?.app);
});

async function newUser(admin: Client, username: string) {
  const res = await admin.post('/api/v1/users', { username, displayName: username, roles: ['staff'] });
  if (res.status !== 201) throw new Error(`${res.status} ${res.text}`);
  return { id: res.body.user.id as string, url: res.body.enrollment.url as string, token: tokenOf(res.body.enrollment.url) };
}

test('an enrollment link works once; a second use is refused and nothing changes', async (t) => {
  const { app, admin } = t.context;
  const u = await newUser(admin, 'once-only');
  const first = await enroll(admin.base, u.url, 'first chosen password');
  const again = await app.client().post('/api/v1/enrollment/begin', { token: u.token });
  t.is(again.status, 404);
  t.is(again.body.error, 'enrollment_invalid');
  const secret = first.totpSecret;
  const hijack = await app.client().post('/api/v1/enrollment/complete', { token: u.token, password: 'an attacker password', totpSecret: secret, totpCode: currentTotp(secret) });
  t.is(hijack.status, 404);
  const login = await signIn(app, { id: u.id, username: 'once-only', password: 'first chosen password', totpSecret: secret, recoveryCodes: [] });
  t.is(login.res.status, 200, 'the first enrollment stands');
});

test('an expired link is refused with its own code; the administrator issues a new one that works', async (t) => {
  const { app, admin } = t.context;
  const u = await newUser(admin, 'too-late');
  await ownerDb(app)('enrollments').where({ user_id: u.id }).update({ expires_at: new Date(Date.now() - 1000) });
  const expired = await app.client().post('/api/v1/enrollment/begin', { token: u.token });
  t.is(expired.status, 410);
  t.is(expired.body.error, 'enrollment_expired');
  const listed = (await admin.get('/api/v1/users')).body.users.find((x: { id: string }) => x.id === u.id);
  t.truthy(listed.enrollmentExpiresAt, 'the list shows the pending (expired) link');
  const renewed = await admin.post(`/api/v1/users/${u.id}/enrollment`);
  t.is(renewed.status, 200, renewed.text);
  t.not(tokenOf(renewed.body.enrollment.url), u.token);
  await enroll(admin.base, renewed.body.enrollment.url, 'chosen after renewal');
});

test('a reset removes password and TOTP, ends the sessions and replaces the old link; audited with ids only', async (t) => {
  const { app, admin, adminId } = t.context;
  const acc = await createAccount(admin, ['doctor'], 'reset-me');
  const { client: session } = await signIn(app, acc);
  const first = await admin.post(`/api/v1/users/${acc.id}/enrollment`);
  t.is(first.status, 200, first.text);
  t.is((await session.get('/api/v1/session')).body.user, null, 'the reset ended the session');
  const row = await ownerDb(app)('users').where({ id: acc.id }).first();
  t.deepEqual([row.password_hash, row.totp_secret, row.recovery_codes], [null, null, []]);
  t.is((await signIn(app, acc, { offset: 1 })).res.status, 401, 'the old password no longer works');
  const second = await admin.post(`/api/v1/users/${acc.id}/enrollment`);
  t.is((await app.client().post('/api/v1/enrollment/begin', { token: tokenOf(first.body.enrollment.url) })).status, 404, 'a new link invalidates the old');
  const enrolled = await enroll(admin.base, second.body.enrollment.url, 'a fresh own password');
  t.is((await signIn(app, { ...acc, password: 'a fresh own password', totpSecret: enrolled.totpSecret })).res.status, 200);
  const issued = await auditRows(app, { action: 'user.enrollment_issued', object_id: acc.id });
  t.is(issued.length, 3);
  t.is(issued[2].actor_user_id, adminId);
  const entries = [...issued, ...(await auditRows(app, { object_id: acc.id }))];
  for (const url of [first.body.enrollment.url, second.body.enrollment.url]) {
    t.false(JSON.stringify(entries).includes(tokenOf(url)), 'no token in the audit log');
  }
  t.is((await auditRows(app, { action: 'user.enrolled', object_id: acc.id })).length, 2);
});

test('a reset is refused for oneself and, for an organization admin who is no installation operator, for a platform owner', async (t) => {
  const { app, admin, adminId, orgId } = t.context;
  const self = await admin.post(`/api/v1/users/${adminId}/enrollment`);
  t.is(self.status, 409);
  const plain = await createAccount(admin, ['admin'], 'plain-admin');
  const { client: plainAdmin, res: login } = await signIn(app, plain);
  t.is(login.status, 200, login.text);
  const [po] = await ownerDb(app)('users').insert({ organization_id: orgId, username: 'po-reset', display_name: 'PO', roles: ['platform_owner'] }).returning('id');
  t.is((await plainAdmin.post(`/api/v1/users/${po.id}/enrollment`)).status, 403);
});

test('enrollment refuses a short password and a wrong authenticator code, naming the field; the link stays usable', async (t) => {
  const { app, admin } = t.context;
  const u = await newUser(admin, 'careful-typist');
  const client = app.client();
  const begin = await client.post('/api/v1/enrollment/begin', { token: u.token });
  t.is(begin.status, 200, begin.text);
  t.is(begin.body.loginName, 'careful-typist');
  t.regex(begin.body.otpauthUrl, /^otpauth:\/\/totp\//);
  const secret = begin.body.totpSecret;
  const short = await client.post('/api/v1/enrollment/complete', { token: u.token, password: 'short', totpSecret: secret, totpCode: currentTotp(secret) });
  t.is(short.status, 400);
  t.is(short.body.details[0].field, 'body.password');
  const wrongCode = String((Number(currentTotp(secret)) + 500_000) % 1_000_000).padStart(6, '0');
  const wrong = await client.post('/api/v1/enrollment/complete', { token: u.token, password: 'long enough password', totpSecret: secret, totpCode: wrongCode });
  t.is(wrong.status, 400);
  t.is(wrong.body.details[0].field, 'totpCode');
  const ok = await client.post('/api/v1/enrollment/complete', { token: u.token, password: 'long enough password', totpSecret: secret, totpCode: currentTotp(secret) });
  t.is(ok.status, 200, ok.text);
  t.is((await client.get('/api/v1/session')).body.user.id, u.id, 'enrollment signs the person in');
});

async function platformOwner(app: TestApp, orgId: string, username = 'platform-op'): Promise<{ client: Client; id: string }> {
  const [owner] = await ownerDb(app)('users').insert({ organization_id: orgId, username, display_name: 'Platform', roles: ['platform_owner'] }).returning('id');
  // Creating organizations is an installation power: the platform owner holds it through the operator role.
  await ownerDb(app)('installation_operators').insert({ user_id: owner.id });
  const issued = await withScope(app.services.db, { organizationId: orgId, userId: owner.id }, (trx) =>
    createSession(trx, app.config, { organizationId: orgId, userId: owner.id, roles: ['platform_owner'], method: 'local' }));
  const client = app.client();
  client.cookies.set('pk_session', issued.token);
  client.cookies.set('pk_csrf', issued.csrfToken);
  return { client, id: owner.id };
}

test.serial('the platform owner creates an organization but cannot sign in as its admin nor reach a patient', async (t) => {
  const { app, orgId, admin } = t.context;
  const po = await platformOwner(app, orgId);
  const refused = await po.client.post('/api/v1/organizations', {
    name: 'Praxis Nord', slug: 'praxis-nord', admin: { username: 'nord-admin', displayName: 'Nord Admin', password: 'owner-chosen password' },
  });
  t.is(refused.status, 400, 'the platform owner cannot choose the admin\'s password');
  t.is(refused.body.details[0].field, 'body.admin.password');
  const created = await po.client.post('/api/v1/organizations', { name: 'Praxis Nord', slug: 'praxis-nord', admin: { username: 'nord-admin', displayName: 'Nord Admin' } });
  t.is(created.status, 201, created.text);
  const answer = JSON.stringify(created.body);
  for (const secretKey of ['password', 'totpSecret', 'otpauthUrl', 'recoveryCodes']) t.false(answer.includes(secretKey), `no ${secretKey} in the answer`);
  t.is(created.body.admin.loginName, 'nord-admin@praxis-nord');
  const nordOrg = created.body.organization.id;

  // The person enrolls through the link; the platform owner knows nothing of what they chose.
  const nord = await enroll(admin.base, created.body.admin.enrollment.url, 'nord admin own password');
  t.is(nord.loginName, 'nord-admin@praxis-nord');
  const patient = await nord.client.post('/api/v1/patients', samplePatient());
  t.is(patient.status, 201, patient.text);

  for (const body of [
    { username: 'nord-admin@praxis-nord', password: 'owner-chosen password', totp: '123456' },
    { username: 'nord-admin@praxis-nord', password: 'nord admin own password', totp: '000000' },
  ]) {
    t.is((await app.client().post('/api/v1/auth/local/login', body)).status, 401, 'no credential of the admin is known to the platform owner');
  }
  t.is((await po.client.get('/api/v1/patients')).status, 403);
  t.is((await po.client.get(`/api/v1/patients/${patient.body.patient.id}`)).status, 403);
  t.is((await po.client.post(`/api/v1/users/${created.body.admin.id}/enrollment`)).status, 403, 'the platform owner cannot reset the admin');
  t.is((await po.client.get('/api/v1/users')).status, 403);

  const nordUsers = await nord.client.get('/api/v1/users');
  t.deepEqual(nordUsers.body.users.map((u: { username: string }) => u.username), ['nord-admin'], 'the new organization sees only its own users');
  t.is((await nord.client.patch(`/api/v1/users/${t.context.adminId}`, { active: false })).status, 404, 'an administrator cannot reach users of another organization');
  const list = await po.client.get('/api/v1/organizations');
  t.deepEqual(list.body.organizations.map((o: { slug: string }) => o.slug).sort(), ['praxis-nord', 'praxis-test']);
  const dup = await po.client.post('/api/v1/organizations', { name: 'X', slug: 'praxis-nord', admin: { username: 'other-admin', displayName: 'O' } });
  t.is(dup.status, 409);
  t.is(dup.body.details[0].field, 'slug');
  t.is((await auditRows(app, { action: 'organization.created', organization_id: nordOrg })).length, 1);
  t.is((await auditRows(app, { action: 'organization.created', organization_id: null, object_id: nordOrg })).length, 1, 'and in the installation chain');
  t.is((await auditRows(app, { action: 'user.enrollment_issued', organization_id: nordOrg, actor_user_id: po.id })).length, 1);
  const plain = await createAccount(admin, ['admin'], 'clinic-admin');
  const { client: clinicAdmin } = await signIn(app, plain);
  t.is((await clinicAdmin.get('/api/v1/organizations')).status, 403, 'a clinic admin who is no installation operator cannot list organizations');
});

test.serial('an organization admin cannot learn whether a username exists in another organization', async (t) => {
  const { app, orgId, admin, totpSecret } = t.context;
  const po = await platformOwner(app, orgId, 'platform-op2');
  const created = await po.client.post('/api/v1/organizations', { name: 'Praxis Süd', slug: 'praxis-sued', admin: { username: 'sued-admin', displayName: 'Süd Admin' } });
  t.is(created.status, 201, created.text);
  const sued = await enroll(admin.base, created.body.admin.enrollment.url, 'sued admin own password');

  // "admin" exists in the first organization; for Praxis Süd's admin it is just a free name.
  const taken = await sued.client.post('/api/v1/users', { username: ADMIN.adminUsername, displayName: 'Süd Anna', roles: ['staff'] });
  const fresh = await sued.client.post('/api/v1/users', { username: 'never-used-anywhere', displayName: 'Süd Ben', roles: ['staff'] });
  t.deepEqual([taken.status, fresh.status], [201, 201], taken.text);
  t.deepEqual(Object.keys(taken.body).sort(), Object.keys(fresh.body).sort());
  t.deepEqual(Object.keys(taken.body.user).sort(), Object.keys(fresh.body.user).sort());
  const again = await sued.client.post('/api/v1/users', { username: ADMIN.adminUsername, displayName: 'Dup', roles: ['staff'] });
  t.is(again.status, 409, 'within the own organization a taken name is a clear conflict');

  // Both "admin" accounts sign in; the organization slug tells them apart.
  const anna = await enroll(admin.base, taken.body.enrollment.url, 'anna in praxis sued');
  t.is(anna.loginName, 'admin@praxis-sued');
  const asAnna = await signIn(app, { id: taken.body.user.id, username: 'admin@praxis-sued', password: 'anna in praxis sued', totpSecret: anna.totpSecret, recoveryCodes: [] });
  t.is(asAnna.res.status, 200, asAnna.res.text);
  t.is(asAnna.res.body.user.organizationId, created.body.organization.id);
  const first = await signIn(app, { id: t.context.adminId, username: ADMIN.adminUsername, password: ADMIN.adminPassword, totpSecret, recoveryCodes: [] }, { offset: 1 });
  t.is(first.res.status, 200, first.res.text);
  t.is(first.res.body.user.organizationId, orgId, 'a plain name is the first organization\'s account');

  // Unknown names and wrong passwords answer alike, in any organization.
  const ghost = await app.client().post('/api/v1/auth/local/login', { username: 'ghost@praxis-sued', password: 'whatever password', totp: '123456' });
  const wrong = await app.client().post('/api/v1/auth/local/login', { username: 'sued-admin@praxis-sued', password: 'whatever password', totp: '123456' });
  t.deepEqual([ghost.status, ghost.body], [wrong.status, wrong.body]);
});
