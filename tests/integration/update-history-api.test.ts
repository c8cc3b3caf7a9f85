// GET /api/v1/installation/updates: the running version and the update history, for installation
// operators only. The rows come from the same service the host updater's `praxiskern update-record`
// calls; the application role reads them only in installation scope and can never write them.
import anyTest, { type TestFn } from 'ava';
import { randomUUID } from 'node:crypto';
import { withScope } from '../../app/api/src/db/connection.ts';
import { recordUpdate } from '../../app/api/src/modules/updates/update-history.service.ts';
import { parseUpdateRecord } from '../../app/api/src/modules/updates/update-record.ts';
import { VERSION } from '../../app/api/src/version.ts';
import { setupInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { ownerDb, sessionAs, stopApp } from './auth-fixtures.ts';

interface Ctx { app: TestApp; operator: Client; orgId: string; ids: string[] }
const test = anyTest as TestFn<Ctx>;

const run = (overrides: Record<string, unknown>) => parseUpdateRecord(Buffer.from(JSON.stringify({
  id: randomUUID(), kind: 'update', fromVersion: '1.0.0', toVersion: '1.1.0', startedAt: '2026-11-20T08:00:00Z', finishedAt: '2026-11-20T08:04:00Z',
  outcome: 'succeeded', by: 'itadmin', durationSeconds: 240, phases: { snapshot: 60, migrate: 4 }, ...overrides,
})));

test.before(async (t) => {
  const app = await startTestApp();
  const { client, organizationId } = await setupInstance(app);
  const owner = ownerDb(app);
  const older = run({});
  const newer = run({ kind: 'rollback', fromVersion: '1.1.0', toVersion: '1.0.0', startedAt: '2026-11-28T09:00:00Z', finishedAt: '2026-11-28T09:02:30Z', outcome: 'succeeded', by: 'ansible', durationSeconds: 150, snapshotRestored: true });
  const running = run({ fromVersion: '1.0.0', toVersion: '1.2.0', startedAt: '2026-12-01T07:00:00Z', finishedAt: null, outcome: 'running', durationSeconds: null, forced: true, forceReason: 'backup target replaced' });
  for (const r of [older, newer, running]) await recordUpdate(owner, r);
  t.context = { app, operator: client, orgId: organizationId, ids: [running.id, newer.id, older.id] };
});

test.after.always(async (t) => {
  await stopApp(t.context?.app);
});

test('an installation operator sees the running version and the runs, newest first', async (t) => {
  const res = await t.context.operator.get('/api/v1/installation/updates');
  t.is(res.status, 200, res.text);
  t.is(res.body.runningVersion, VERSION);
  t.deepEqual(res.body.history.map((h: { id: string }) => h.id), t.context.ids);
  t.deepEqual(res.body.history[1], {
    id: t.context.ids[1], kind: 'rollback', fromVersion: '1.1.0', toVersion: '1.0.0', startedAt: '2026-11-28T09:00:00.000Z', finishedAt: '2026-11-28T09:02:30.000Z',
    outcome: 'succeeded', by: 'ansible', durationSeconds: 150, detail: null, forced: false, forceReason: null, snapshotRestored: true, phases: { snapshot: 60, migrate: 4 },
  });
  t.like(res.body.history[0], { outcome: 'running', finishedAt: null, durationSeconds: null, forced: true, forceReason: 'backup target replaced' });
});

test('an organization administrator without the operator role, and the admin of a second organization, get 403', async (t) => {
  const { app, orgId } = t.context;
  const owner = ownerDb(app);
  const [admin] = await owner('users').insert({ organization_id: orgId, username: 'plain-admin', display_name: 'Plain Admin', roles: ['admin'] }).returning('id');
  const [second] = await owner('organizations').insert({ name: 'Zweitpraxis', slug: 'zweit-updates' }).returning('id');
  const [secondAdmin] = await owner('users').insert({ organization_id: second.id, username: 'zweit-admin', display_name: 'Zweit Admin', roles: ['admin'] }).returning('id');
  for (const [who, client] of [['admin', await sessionAs(app, orgId, admin.id, ['admin'])], ['second organization admin', await sessionAs(app, second.id, secondAdmin.id, ['admin'])]] as const) {
    const res = await client.get('/api/v1/installation/updates');
    t.is(res.status, 403, `${who}: ${res.text}`);
    t.is(res.body.error, 'forbidden');
    t.false(res.text.includes('1.1.0'), `${who} learns nothing of the history`);
  }
  t.is((await app.client().get('/api/v1/installation/updates')).status, 401);
});

test('the application role reads the history only in installation scope and cannot write it', async (t) => {
  const db = t.context.app.services.db;
  t.is((await withScope(db, { organizationId: t.context.orgId }, (trx) => trx('update_history').select('id'))).length, 0, 'organization scope sees no row');
  t.is((await withScope(db, { organizationId: null, installation: true }, (trx) => trx('update_history').select('id'))).length, 3);
  await t.throwsAsync(withScope(db, { organizationId: null, installation: true }, (trx) => trx('update_history').update({ outcome: 'failed' })), { message: /permission denied/ });
  await t.throwsAsync(withScope(db, { organizationId: null, installation: true }, (trx) => trx('update_history').insert({ id: randomUUID(), kind: 'update', from_version: '1', to_version: '2', started_at: new Date(), outcome: 'running', performed_by: 'x' })), { message: /permission denied/ });
  await t.throwsAsync(withScope(db, { organizationId: null, installation: true }, (trx) => trx('update_history').delete()), { message: /permission denied/ });
});
