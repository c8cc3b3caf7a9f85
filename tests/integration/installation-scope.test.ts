// Installation powers vs organization powers: the first administrator is the installation's first
// operator; operators grant and revoke the role (API and CLI, audited); installation events go to
// their own audit chain, shown in the installation audit view and covered by `praxiskern audit verify`.
import anyTest, { type TestFn } from 'ava';
import { execFile } from 'node:child_process';
import path from 'node:path';
import type { Role } from '../../app/api/src/core/permissions.ts';
import { withScope } from '../../app/api/src/db/connection.ts';
import { createSession } from '../../app/api/src/modules/auth/session.service.ts';
import { startTestApp, setupInstance, ADMIN, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { auditRows, ownerDb, stopApp } from './auth-fixtures.ts';

interface Ctx {
  app: TestApp;
  operator: Client;
  operatorId: string;
  orgId: string;
  secondOrgId: string;
  secondAdminId: string;
}
const test = anyTest as TestFn<Ctx>;
const CLI = path.resolve('appliance/src/cli.ts');

test.before(async (t) => {
  t.context = {} as Ctx;
  const app = (t.context.app = await startTestApp());
  const { client, userId, organizationId } = await setupInstance(app);
  const [second] = await ownerDb(app)('organizations').insert({ name: 'Praxis Süd', slug: 'praxis-sued' }).returning('id');
  const [secondAdmin] = await ownerDb(app)('users').insert({ organization_id: second.id, username: 'sued-admin', display_name: 'Süd Admin', roles: ['admin'] }).returning('id');
  Object.assign(t.context, { operator: client, operatorId: userId, orgId: organizationId, secondOrgId: second.id, secondAdminId: secondAdmin.id });
});

test.after.always(async (t) => {
  await stopApp(t.context?.app);
});

async function sessionAs(app: TestApp, organizationId: string, userId: string, roles: Role[]): Promise<Client> {
  const issued = await withScope(app.services.db, { organizationId, userId }, (trx) =>
    createSession(trx, app.config, { organizationId, userId, roles, method: 'local' }));
  const client = app.client();
  client.cookies.set('pk_session', issued.token);
  client.cookies.set('pk_csrf', issued.csrfToken);
  return client;
}

const actions = async (client: Client) => {
  const res = await client.get('/api/v1/installation/audit?limit=500');
  if (res.status !== 200) throw new Error(`installation audit: ${res.status} ${res.text}`);
  return (res.body.entries as { action: string; actor_user_id: string | null; object_id: string | null; outcome: string; details: Record<string, unknown> }[]);
};

function cli(app: TestApp, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string; json: any }> {
  const env = { ...process.env, DATABASE_URL: app.db.appUrl, DATABASE_OWNER_URL: app.db.ownerUrl, PRAXISKERN_DATA_DIR: app.dataDir, LOG_LEVEL: 'silent' };
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env }, (err, stdout, stderr) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        /* human output */
      }
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr, json });
    });
  });
}

test.serial('the first administrator of a fresh installation is its operator, and the session says so', async (t) => {
  const { operator, operatorId } = t.context;
  const me = await operator.get('/api/v1/session');
  t.deepEqual(me.body.user.roles, ['admin']);
  t.deepEqual(me.body.user.installationRoles, ['operator']);
  const list = await operator.get('/api/v1/installation/operators');
  t.is(list.status, 200);
  t.deepEqual(list.body.operators.map((o: { userId: string }) => o.userId), [operatorId]);
  const granted = (await actions(operator)).find((e) => e.action === 'installation.operator_granted');
  t.is(granted?.object_id, operatorId);
  t.is(granted?.details.via, 'setup');
});

test('the OpenAPI document names each permission\'s scope', async (t) => {
  const doc = (await t.context.app.client().get('/api/v1/openapi.json')).body;
  t.is(doc.paths['/api/v1/backup/recovery-kit'].post['x-permission-scope'], 'installation');
  t.is(doc.paths['/api/v1/installation/audit'].get['x-permission-scope'], 'installation');
  t.is(doc.paths['/api/v1/audit'].get['x-permission-scope'], 'organization');
  t.is(doc.paths['/api/v1/session'].get['x-permission-scope'], null);
});

test.serial('row-level security: in organization scope the app role sees no operators and no installation audit entries, and cannot grant', async (t) => {
  const { app, orgId, secondAdminId } = t.context;
  const db = app.services.db;
  const inOrg = { organizationId: orgId };
  t.deepEqual(await withScope(db, inOrg, (trx) => trx('installation_operators').select('user_id')), []);
  t.deepEqual(await withScope(db, inOrg, (trx) => trx('audit_log').whereNull('organization_id').select('id')), []);
  t.deepEqual((await withScope(db, inOrg, (trx) => trx.raw('select * from installation_operator_list()'))).rows, []);
  await t.throwsAsync(withScope(db, inOrg, (trx) => trx('installation_operators').insert({ user_id: secondAdminId })), { message: /row-level security/ });
  const inInstallation = await withScope(db, { organizationId: null, installation: true }, (trx) => trx('audit_log').select('organization_id'));
  t.true(inInstallation.length > 0);
  t.true(inInstallation.every((r: { organization_id: string | null }) => r.organization_id === null), 'installation scope shows the installation chain only');
});

test.serial('an organization admin who is no operator is refused the installation view and cannot grant itself the role', async (t) => {
  const { app, secondOrgId, secondAdminId } = t.context;
  const admin = await sessionAs(app, secondOrgId, secondAdminId, ['admin']);
  t.deepEqual((await admin.get('/api/v1/session')).body.user.installationRoles, []);
  t.is((await admin.get('/api/v1/installation/audit')).status, 403);
  t.is((await admin.get('/api/v1/installation/operators')).status, 403);
  t.is((await admin.post('/api/v1/installation/operators', { user: 'sued-admin' })).status, 403);
  t.is((await admin.post('/api/v1/backup/recovery-kit', { replace: true })).status, 403);
  t.is(await ownerDb(app)('installation_operators').where({ user_id: secondAdminId }).first(), undefined);
  const denied = (await actions(t.context.operator)).filter((e) => e.action === 'access.denied' && e.actor_user_id === secondAdminId);
  t.true(denied.some((e) => e.details.route === 'POST /backup/recovery-kit'), 'the denied recovery-kit replacement shows in the installation view');
});

test.serial('installation events (passphrase, unseal) go to the installation view, not to an organization\'s audit log', async (t) => {
  const { app, operator } = t.context;
  const changed = await operator.post('/api/v1/seal/passphrase', { currentPassphrase: ADMIN.passphrase, newPassphrase: 'a new practice passphrase' });
  t.is(changed.status, 200, changed.text);
  app.services.seal.seal();
  t.is((await operator.post('/api/v1/seal/unseal', { passphrase: 'a new practice passphrase' })).status, 200);
  const seen = (await actions(operator)).map((e) => e.action);
  t.true(seen.includes('seal.passphrase_changed'));
  t.true(seen.includes('seal.unseal'));
  t.false(seen.includes('audit.read'), 'organization entries stay out of the installation view');
  const orgLog = (await operator.get('/api/v1/audit?limit=500')).body.entries.map((e: { action: string }) => e.action);
  t.false(orgLog.includes('seal.passphrase_changed'), 'the organization log does not carry installation events');
  t.is((await auditRows(app, { action: 'seal.passphrase_changed' }))[0].organization_id, null);
  t.true(seen.includes('installation.audit_read'), 'reading the installation view is itself audited');
});

test.serial('while sealed only an operator may unseal through the web; an organization admin gets 403', async (t) => {
  const { app, operator, secondOrgId, secondAdminId } = t.context;
  app.services.seal.seal();
  try {
    const admin = await sessionAs(app, secondOrgId, secondAdminId, ['admin']);
    t.is((await admin.post('/api/v1/seal/unseal', { passphrase: 'a new practice passphrase' })).status, 403);
    t.true(app.services.seal.isSealed);
    t.is((await operator.post('/api/v1/seal/unseal', { passphrase: 'a new practice passphrase' })).status, 200);
    t.false(app.services.seal.isSealed);
  } finally {
    if (app.services.seal.isSealed) await app.services.seal.unseal(app.services.db, 'a new practice passphrase');
  }
});

test.serial('an operator grants the role to another organization\'s admin, whose sessions end; revoking takes the power away at once', async (t) => {
  const { app, operator, operatorId, secondOrgId, secondAdminId } = t.context;
  const before = await sessionAs(app, secondOrgId, secondAdminId, ['admin']);
  t.is((await operator.post('/api/v1/installation/operators', { user: 'nobody-here' })).status, 404);
  t.is((await operator.post('/api/v1/installation/operators', { user: 'bad name!' })).body.details[0].field, 'body.user');
  const plain = await operator.post('/api/v1/installation/operators', { user: 'sued-admin' });
  t.is(plain.status, 404, 'a plain name means the first organization, as at sign-in');
  const granted = await operator.post('/api/v1/installation/operators', { user: 'SUED-ADMIN@Praxis-Sued' });
  t.is(granted.status, 201, granted.text);
  t.is(granted.body.operator.organizationName, 'Praxis Süd');
  t.is((await operator.post('/api/v1/installation/operators', { user: secondAdminId })).status, 409, 'granting twice is a conflict');
  t.is((await before.get('/api/v1/session')).body.user, null, 'the grant ended the user\'s sessions');
  const after = await sessionAs(app, secondOrgId, secondAdminId, ['admin']);
  t.is((await after.get('/api/v1/backup/status')).status, 200, 'the new operator reaches installation routes');
  t.is((await after.delete(`/api/v1/installation/operators/${secondAdminId}`)).status, 409, 'nobody revokes their own operator role');
  t.is((await operator.delete(`/api/v1/installation/operators/${secondAdminId}`)).status, 204);
  const later = await sessionAs(app, secondOrgId, secondAdminId, ['admin']);
  t.is((await later.get('/api/v1/backup/status')).status, 403, 'revoked: installation routes are closed again');
  t.is((await operator.delete(`/api/v1/installation/operators/${operatorId}`)).status, 409, 'the last operator stays');
  const log = await actions(operator);
  const grant = log.find((e) => e.action === 'installation.operator_granted' && e.object_id === secondAdminId);
  t.is(grant?.actor_user_id, operatorId);
  t.is(grant?.details.organizationId, secondOrgId);
  t.truthy(log.find((e) => e.action === 'installation.operator_revoked' && e.object_id === secondAdminId));
});

test.serial('praxiskern operator grant|list|revoke manages the role from the server, audited as the CLI', async (t) => {
  const { app, operator, secondAdminId } = t.context;
  const grant = await cli(app, 'operator', 'grant', 'sued-admin@praxis-sued', '--json');
  t.is(grant.code, 0, grant.stderr);
  t.is(grant.json.operator.userId, secondAdminId);
  const list = await cli(app, 'operator', 'list', '--json');
  t.deepEqual(list.json.operators.map((o: { username: string }) => o.username).sort(), [ADMIN.adminUsername, 'sued-admin']);
  const missing = await cli(app, 'operator', 'grant', 'nobody-here');
  t.not(missing.code, 0);
  t.regex(missing.stderr, /User not found/);
  const revoke = await cli(app, 'operator', 'revoke', 'sued-admin@praxis-sued', '--json');
  t.is(revoke.code, 0, revoke.stderr);
  t.is(await ownerDb(app)('installation_operators').where({ user_id: secondAdminId }).first(), undefined);
  const viaCli = (await actions(operator)).filter((e) => e.object_id === secondAdminId && e.details.via === 'cli');
  t.deepEqual(viaCli.map((e) => e.action).sort(), ['installation.operator_granted', 'installation.operator_revoked']);
  t.true(viaCli.every((e) => e.actor_user_id === null));
});

test.serial('a name that exists in two organizations is refused as ambiguous (API and CLI); name@slug grants and revokes the right account', async (t) => {
  const { app, operator, orgId, secondOrgId } = t.context;
  const owner = ownerDb(app);
  const [nord] = await owner('users').insert({ organization_id: orgId, username: 'twin', display_name: 'Twin Nord', roles: ['staff'] }).returning('id');
  const [sued] = await owner('users').insert({ organization_id: secondOrgId, username: 'twin', display_name: 'Twin Süd', roles: ['staff'] }).returning('id');
  const isOperator = async (id: string) => (await owner('installation_operators').where({ user_id: id }).first()) !== undefined;
  const plain = await operator.post('/api/v1/installation/operators', { user: 'twin' });
  t.is(plain.status, 409, plain.text);
  t.is(plain.body.error, 'user_ambiguous');
  const plainCli = await cli(app, 'operator', 'grant', 'twin');
  t.not(plainCli.code, 0);
  t.regex(plainCli.stderr, /more than one organization/);
  t.false(await isOperator(nord.id) || await isOperator(sued.id), 'neither twin became an operator');
  t.is((await operator.post('/api/v1/installation/operators', { user: 'twin@no-such-practice' })).status, 404);
  const granted = await operator.post('/api/v1/installation/operators', { user: 'twin@praxis-sued' });
  t.is(granted.status, 201, granted.text);
  t.is(granted.body.operator.userId, sued.id);
  t.is(granted.body.operator.organizationId, secondOrgId);
  t.false(await isOperator(nord.id));
  const viaCli = await cli(app, 'operator', 'grant', `twin@${ADMIN.organizationSlug}`, '--json');
  t.is(viaCli.code, 0, viaCli.stderr);
  t.is(viaCli.json.operator.userId, nord.id);
  const revokePlain = await cli(app, 'operator', 'revoke', 'twin');
  t.not(revokePlain.code, 0, 'a plain name that is an operator in two organizations is not guessed at');
  t.true(await isOperator(nord.id) && await isOperator(sued.id));
  const revoked = await cli(app, 'operator', 'revoke', 'twin@praxis-sued', '--json');
  t.is(revoked.code, 0, revoked.stderr);
  t.false(await isOperator(sued.id));
  t.true(await isOperator(nord.id), 'the first organization\'s twin keeps the role');
  t.is((await operator.delete(`/api/v1/installation/operators/${nord.id}`)).status, 204);
});

test.serial('an organization admin cannot reset, re-role or deactivate an installation operator; an operator can, and one active operator remains', async (t) => {
  const { app, operator, operatorId, orgId } = t.context;
  const owner = ownerDb(app);
  const [plainAdmin] = await owner('users').insert({ organization_id: orgId, username: 'plain-admin', display_name: 'Plain Admin', roles: ['admin'] }).returning('id');
  const [opTwo] = await owner('users').insert({ organization_id: orgId, username: 'op-two', display_name: 'Op Two', roles: ['admin'] }).returning('id');
  const grant = await operator.post('/api/v1/installation/operators', { user: 'op-two' });
  t.is(grant.status, 201, 'a plain name unique in the first organization is granted');
  const admin = await sessionAs(app, orgId, plainAdmin.id, ['admin']);
  const account = () => owner('users').where({ id: operatorId }).first('password_hash', 'totp_secret', 'active', 'roles');
  const before = await account();
  for (const [what, res] of [
    ['reset', await admin.post(`/api/v1/users/${operatorId}/enrollment`)],
    ['deactivation', await admin.patch(`/api/v1/users/${operatorId}`, { active: false })],
    ['role change', await admin.patch(`/api/v1/users/${operatorId}`, { roles: ['admin', 'doctor'] })],
  ] as const) {
    t.is(res.status, 403, `${what}: ${res.text}`);
    t.is(res.body.error, 'operator_protected', what);
  }
  t.deepEqual(await account(), before, 'the operator\'s credentials, activation and roles are unchanged');
  t.is(await owner('enrollments').where({ user_id: operatorId }).first(), undefined, 'no enrollment link exists for the operator');
  t.not((await operator.get('/api/v1/session')).body.user, null, 'the operator\'s session goes on');
  t.is((await admin.patch(`/api/v1/users/${opTwo.id}`, { displayName: 'Op Zwei' })).status, 200, 'the display name stays the admin\'s to change');

  const reset = await operator.post(`/api/v1/users/${opTwo.id}/enrollment`);
  t.is(reset.status, 200, reset.text);
  t.is((await operator.patch(`/api/v1/users/${opTwo.id}`, { roles: ['admin', 'doctor'] })).status, 200, 'an operator changes another operator\'s roles');
  t.is((await operator.patch(`/api/v1/users/${opTwo.id}`, { active: false })).status, 200, 'an operator deactivates another operator');
  const last = await cli(app, 'user', 'deactivate', operatorId, '--org', ADMIN.organizationSlug);
  t.not(last.code, 0, 'root cannot deactivate the last active operator');
  t.regex(last.stderr, /at least one active operator/);
  t.true((await account()).active);
  t.is((await operator.patch(`/api/v1/users/${opTwo.id}`, { active: true })).status, 200);
  t.is((await operator.delete(`/api/v1/installation/operators/${opTwo.id}`)).status, 204);
  t.is((await admin.post(`/api/v1/users/${opTwo.id}/enrollment`)).status, 200, 'once no operator, the account is the organization admin\'s again');
});

test.serial('praxiskern audit verify covers the installation chain and finds an edited installation entry', async (t) => {
  const { app } = t.context;
  const ok = await cli(app, 'audit', 'verify', '--json');
  t.is(ok.code, 0, ok.stderr);
  const owner = ownerDb(app);
  const chains = (await owner('audit_log').distinct('organization_id')).map((r: { organization_id: string | null }) => r.organization_id);
  t.true(chains.includes(null), 'the installation chain exists');
  t.is(ok.json.chains, chains.length, 'every chain, the installation chain included, is verified');
  const row = await owner('audit_log').whereNull('organization_id').where({ action: 'seal.passphrase_changed' }).first('id', 'details');
  await owner.raw('alter table audit_log disable trigger audit_no_update');
  try {
    await owner('audit_log').where({ id: row.id }).update({ details: JSON.stringify({ forged: true }) });
  } finally {
    await owner.raw('alter table audit_log enable trigger audit_no_update');
  }
  const bad = await cli(app, 'audit', 'verify', '--json');
  t.is(bad.code, 1);
  t.is(bad.json.problems[0].organizationId, null);
  t.is(String(bad.json.problems[0].id), String(row.id));
});
