// Issue 13 item 7: the live register of external services ("Anlage 2"). It reflects the actual
// configuration (hosting, messaging channels, calendar feeds, backup targets), records since when
// each service is on or off, audits every transition, and an organization sees only its own
// services (plus the installation's). Issue 12 item 7: "Backup now" is refused with a clear 4xx
// on a server without backup targets.
import anyTest, { type TestFn } from 'ava';
import { withScope } from '../../app/api/src/db/connection.ts';
import { createSession } from '../../app/api/src/modules/auth/session.service.ts';
import { registerExternalService, type ExternalServiceProvider } from '../../app/api/src/modules/services-register/registry.ts';
import { setupInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { closeOwner, ownerDb } from './auth-fixtures.ts';

interface Ctx { app: TestApp; admin: Client; orgId: string; userId: string; second: Client; secondOrgId: string }
const test = anyTest as TestFn<Ctx>;

test.before(async (t) => {
  delete process.env.PRAXISKERN_BACKUP_TARGETS; // a server without any backup target
  process.env.PRAXISKERN_HOSTING_PROVIDER = 'Hetzner Online GmbH, Industriestr. 25, 91710 Gunzenhausen';
  const app = await startTestApp({ PRAXISKERN_SMTP_HOST: 'smtp.example.test', PRAXISKERN_SMTP_PORT: '587' });
  const { client, organizationId, userId } = await setupInstance(app);
  const [second] = await ownerDb(app)('organizations').insert({ name: 'Praxis Süd', slug: 'praxis-sued' }).returning('id');
  const [secondAdmin] = await ownerDb(app)('users').insert({ organization_id: second.id, username: 'sued-admin', display_name: 'Süd Admin', roles: ['admin'] }).returning('id');
  const issued = await withScope(app.services.db, { organizationId: second.id, userId: secondAdmin.id }, (trx) =>
    createSession(trx, app.config, { organizationId: second.id, userId: secondAdmin.id, roles: ['admin'], method: 'local' }));
  const secondClient = app.client();
  secondClient.cookies.set('pk_session', issued.token);
  secondClient.cookies.set('pk_csrf', issued.csrfToken);
  t.context = { app, admin: client, orgId: organizationId, userId, second: secondClient, secondOrgId: second.id };
});

test.after.always(async (t) => {
  if (!t.context?.app) return;
  await closeOwner(t.context.app);
  await t.context.app.stop();
  await t.context.app.db.drop();
});

type Entry = { key: string; enabled: boolean; since: string | null; thirdCountry: string; safeguardCodes: string[]; recipient: string; location: string; scope: string; dataCategoryCodes: string[] };
const register = async (c: Client) => {
  const res = await c.get('/api/v1/services-register');
  if (res.status !== 200) throw new Error(`register: ${res.status} ${res.text}`);
  return res.body as { organization: string; entries: Entry[]; history: { key: string; enabled: boolean }[] };
};
const entry = (r: { entries: Entry[] }, key: string) => r.entries.find((e) => e.key === key);
const channels = (c: Client, email: boolean, whatsapp: boolean, provider: 'meta' | '360dialog' = 'meta') =>
  c.put('/api/v1/messaging/channels', { email: { enabled: email, from: 'praxis@example.test' }, whatsapp: { enabled: whatsapp, provider, phoneNumberId: '1234567890' } });

test.serial('hosting and messaging as configured: off by default, on with since-when after a settings change, audited', async (t) => {
  const { app, admin, orgId } = t.context;
  const before = await register(admin);
  t.is(before.organization, 'Praxis Dr. Test');
  const hosting = entry(before, 'hosting:server')!;
  t.like(hosting, { enabled: true, scope: 'installation', location: 'DE', thirdCountry: 'none' });
  t.true(hosting.recipient.startsWith('Hetzner Online GmbH'));
  t.truthy(hosting.since, 'the start-up sync recorded since when the server is in use');
  t.like(entry(before, 'messaging:email'), { enabled: false, thirdCountry: 'none' });
  t.like(entry(before, 'messaging:whatsapp-meta'), { enabled: false });
  t.is(entry(before, 'messaging:whatsapp-360dialog'), undefined, 'only the chosen WhatsApp provider is listed');
  // Payments are built in and off by default; no entries for services that are not built into this server.
  t.like(entry(before, 'stripe'), { enabled: false });
  t.false(before.entries.some((e) => /cloudflare|brevo|google|sendgrid|twilio/i.test(e.key)));

  t.is((await channels(admin, true, true)).status, 200);
  const on = await register(admin);
  const email = entry(on, 'messaging:email')!;
  const meta = entry(on, 'messaging:whatsapp-meta')!;
  t.like(email, { enabled: true });
  t.like(meta, { enabled: true, thirdCountry: 'yes', location: 'IE/US' });
  t.true(meta.safeguardCodes.includes('scc_2021_914'));
  t.truthy(email.since);
  const since = Date.parse(email.since!);

  // WhatsApp through 360dialog: 360dialog (DE, indirect transfer) and Meta behind it.
  t.is((await channels(admin, true, true, '360dialog')).status, 200);
  const d360 = await register(admin);
  t.like(entry(d360, 'messaging:whatsapp-360dialog'), { enabled: true, thirdCountry: 'indirect', location: 'DE' });
  t.like(entry(d360, 'messaging:whatsapp-meta'), { enabled: true });
  t.is(Date.parse(entry(d360, 'messaging:email')!.since!), since, 'an unchanged service keeps its since-when');

  // Switched off again: since-when moves; a provider no longer used is listed as off.
  t.is((await channels(admin, false, false, 'meta')).status, 200);
  const off = await register(admin);
  t.like(entry(off, 'messaging:email'), { enabled: false });
  t.true(Date.parse(entry(off, 'messaging:email')!.since!) >= since);
  t.like(entry(off, 'messaging:whatsapp-360dialog'), { enabled: false });

  const actions = (await ownerDb(app)('audit_log').where({ organization_id: orgId }).where('action', 'like', '%.external_service.%').orderBy('id'))
    .map((r: { action: string; object_id: string }) => `${r.action} ${r.object_id}`);
  t.deepEqual(actions, [
    'messaging.external_service.enabled messaging:email',
    'messaging.external_service.enabled messaging:whatsapp-meta',
    'messaging.external_service.enabled messaging:whatsapp-360dialog',
    'messaging.external_service.disabled messaging:email',
    'messaging.external_service.disabled messaging:whatsapp-meta',
    'messaging.external_service.disabled messaging:whatsapp-360dialog',
  ]);
  t.deepEqual(off.history.slice(0, 3).map((h) => h.enabled), [false, false, false]);
});

test.serial('calendar feeds: a practitioner\'s feed switches the iCalendar entry on, revoking it off', async (t) => {
  const { admin, userId } = t.context;
  t.like(entry(await register(admin), 'appointments:ical'), { enabled: false });
  const res = await admin.post('/api/v1/appointments/resources', { kind: 'practitioner', name: 'Dr. Feed', userId });
  t.is(res.status, 201, res.text);
  const id = res.body.resource.id;
  t.is((await admin.post(`/api/v1/appointments/resources/${id}/feed`)).status, 201);
  const on = entry(await register(admin), 'appointments:ical')!;
  t.like(on, { enabled: true, dataCategoryCodes: ['busy_times'] });
  t.true(on.safeguardCodes.includes('no_patient_data'));
  t.is((await admin.delete(`/api/v1/appointments/resources/${id}/feed`)).status, 204);
  t.like(entry(await register(admin), 'appointments:ical'), { enabled: false });
});

test.serial('scope: organization B\'s admin never sees organization A\'s services or their history; staff have no access', async (t) => {
  const { app, admin, second, orgId, secondOrgId } = t.context;
  t.is((await channels(admin, true, false)).status, 200);
  const b = await register(second);
  t.is(b.organization, 'Praxis Süd');
  t.like(entry(b, 'messaging:email'), { enabled: false });
  t.like(entry(b, 'hosting:server'), { enabled: true }, 'installation services are listed for every organization');
  t.false(b.history.some((h) => h.key.startsWith('messaging:') && h.enabled), 'A\'s messaging transitions are not in B\'s history');
  // Row-level security: in B's scope no row of A is visible, and B cannot write one for A.
  const rows = await withScope(app.services.db, { organizationId: secondOrgId }, (trx) => trx('external_service_events').select('organization_id'));
  t.true(rows.length > 0);
  t.true(rows.every((r: { organization_id: string | null }) => r.organization_id === null || r.organization_id === secondOrgId));
  await t.throwsAsync(withScope(app.services.db, { organizationId: secondOrgId }, (trx) =>
    trx('external_service_events').insert({ organization_id: orgId, service_key: 'messaging:email', enabled: false, entry: '{}' })), { message: /row-level security/ });
  await t.throwsAsync(withScope(app.services.db, { organizationId: secondOrgId }, (trx) =>
    trx('external_service_events').insert({ organization_id: null, service_key: 'hosting:server', enabled: false, entry: '{}' })), { message: /row-level security/ });
  // The register documents the controller's processors: administrators only, not staff or doctors.
  const [mfa] = await ownerDb(app)('users').insert({ organization_id: orgId, username: 'mfa1', display_name: 'MFA', roles: ['staff'] }).returning('id');
  const issued = await withScope(app.services.db, { organizationId: orgId, userId: mfa.id }, (trx) =>
    createSession(trx, app.config, { organizationId: orgId, userId: mfa.id, roles: ['staff'], method: 'local' }));
  const staff = app.client();
  staff.cookies.set('pk_session', issued.token);
  staff.cookies.set('pk_csrf', issued.csrfToken);
  t.is((await staff.get('/api/v1/services-register')).status, 403);
});

test.serial('a provider of another module (plain object of the contract) appears in the register; its switch is audited', async (t) => {
  const { admin, orgId } = t.context;
  let on = false;
  const provider: ExternalServiceProvider = {
    key: 'test-ai',
    describe: async ({ organizationId }) => (organizationId ? [{
      key: 'ai:testmodel', name: 'Test model', purposeCode: 'ai_assistance', dataCategoryCodes: ['pseudonymised_record'], recipient: 'Test Inc., USA',
      location: 'US', thirdCountry: 'yes', safeguardCodes: ['scc_2021_914'], enabled: on, since: null,
    }] : []),
  };
  registerExternalService(provider);
  t.teardown(() => registerExternalService({ key: 'test-ai', describe: async () => [] }));
  t.like(entry(await register(admin), 'ai:testmodel'), { enabled: false });
  on = true;
  t.like(entry(await register(admin), 'ai:testmodel'), { enabled: true });
  const rows = await ownerDb(t.context.app)('audit_log').where({ organization_id: orgId, action: 'ai.external_service.enabled', object_id: 'ai:testmodel' });
  t.is(rows.length, 1);
});

test.serial('"Backup now" without any backup target: 409 backup_no_target, nothing queued', async (t) => {
  const { app, admin } = t.context;
  const res = await admin.post('/api/v1/backup/runs');
  t.is(res.status, 409, res.text);
  t.is(res.body.error, 'backup_no_target');
  t.is(Number((await ownerDb(app)('backup_requests').count({ n: '*' }))[0].n), 0);
  t.deepEqual((await admin.get('/api/v1/backup/targets')).body.targets, []);
  t.false((await register(admin)).entries.some((e) => e.key.startsWith('backup:')));
});
