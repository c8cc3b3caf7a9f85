// Who may do what on the patient routes (every route × every role against the permission table),
// the service-level check for callers without HTTP, and tenant isolation by row-level security.
import test from 'ava';
import { withScope } from '../../app/api/src/db/connection.ts';
import { ROLES, can, type Role } from '../../app/api/src/core/permissions.ts';
import { runWithContext, systemContext } from '../../app/api/src/core/context.ts';
import { patientRoutes } from '../../app/api/src/http/routes.patients.ts';
import { getRecord } from '../../app/api/src/modules/records/record.service.ts';
import { erasePatient } from '../../app/api/src/modules/gdpr/erasure.service.ts';
import { startTestApp, setupInstance, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { clientAs, newOrganization, samplePatient } from './patients-fixtures.ts';

let app: TestApp;
let admin: Client;
let organizationId: string;
let patientId: string;

test.before(async () => {
  app = await startTestApp();
  ({ client: admin, organizationId } = await setupInstance(app));
  patientId = (await admin.post('/api/v1/patients', samplePatient({ givenName: 'Rollenmatrix' }))).body.patient.id;
});
test.after.always(async () => {
  await app?.stop();
  await app?.db.drop();
});

const ZERO = '00000000-0000-4000-8000-000000000000';
const fill = (p: string) => p.replace(':id', patientId).replace(':entryId', ZERO).replace(':documentId', ZERO).replace(':key', 'anamnesis');

test('every patient route answers 403 exactly for the roles the permission table excludes', async (t) => {
  const clients = Object.fromEntries(await Promise.all(ROLES.map(async (r) => [r, await clientAs(app, organizationId, [r])]))) as Record<Role, Client>;
  let checked = 0;
  for (const route of patientRoutes) {
    for (const role of ROLES) {
      const res = await clients[role].request(route.method.toUpperCase(), `/api/v1${fill(route.path)}`, route.method === 'get' ? undefined : {});
      const allowed = can([role], route.access as never);
      if (allowed) t.not(res.status, 403, `${role} ${route.method} ${route.path}: ${res.text}`);
      else t.is(res.status, 403, `${role} ${route.method} ${route.path}`);
      checked++;
    }
  }
  t.log(`${checked} route × role combinations`);
  t.true((await admin.get(`/api/v1/patients/${patientId}`)).status === 200, 'the matrix walk destroyed nothing');
});

test('finance sees master data and consents but no health data, documents or exports; staff cannot hard-delete', async (t) => {
  const finance = await clientAs(app, organizationId, ['finance']);
  const staff = await clientAs(app, organizationId, ['staff']);
  t.is((await finance.get(`/api/v1/patients/${patientId}`)).status, 200);
  t.is((await finance.get(`/api/v1/patients/${patientId}/consents`)).status, 200);
  for (const p of ['record', 'documents', 'export', 'access-log']) t.is((await finance.get(`/api/v1/patients/${patientId}/${p}`)).status, 403, p);
  t.is((await staff.get(`/api/v1/patients/${patientId}/record`)).status, 200);
  t.is((await staff.post(`/api/v1/patients/${patientId}/erasure`, { confirm: true })).status, 403);
  t.is((await staff.get(`/api/v1/patients/${patientId}/export`)).status, 403);
  t.is((await admin.get(`/api/v1/patients/${patientId}`)).status, 200);
});

test('service functions check the permission themselves (CLI and jobs do not pass the router)', async (t) => {
  const actor = (roles: Role[]) => systemContext('test', { userId: ZERO, organizationId, roles, sessionId: ZERO });
  const denied = await t.throwsAsync(runWithContext(actor(['finance']), () => getRecord(app.services, patientId)));
  t.is((denied as { status?: number }).status, 403);
  const noErase = await t.throwsAsync(runWithContext(actor(['staff']), () => erasePatient(app.services, patientId, {})));
  t.is((noErase as { status?: number }).status, 403);
  await t.notThrowsAsync(runWithContext(actor(['doctor']), () => getRecord(app.services, patientId)));
});

test('a user of another organization can neither see nor change the patient', async (t) => {
  const otherOrg = await newOrganization(app, 'andere-praxis');
  const other = await clientAs(app, otherOrg, ['admin']);
  const base = `/api/v1/patients/${patientId}`;
  t.is((await other.get(base)).status, 404);
  t.is((await other.get(`${base}/record`)).status, 404);
  t.is((await other.patch(base, { changes: { givenName: 'Fremd' } })).status, 404);
  t.is((await other.post(`${base}/diagnoses`, { code: 'L64.9', text: 'x' })).status, 404);
  t.is((await other.post(`${base}/erasure`, { confirm: true })).status, 404);
  t.is((await other.get(`${base}/export`)).status, 404);
  t.is((await other.post('/api/v1/patients/search', { q: 'Rollenmatrix' })).body.total, 0);
  t.is((await other.get('/api/v1/patients')).body.total, 0);
  t.is((await admin.get(base)).body.patient.givenName, 'Rollenmatrix');
});

test('with the application filters bypassed, row-level security still hides and protects the rows', async (t) => {
  const otherOrg = await newOrganization(app, 'dritte-praxis');
  await withScope(app.services.db, { organizationId: otherOrg }, async (trx) => {
    for (const table of ['patients', 'patient_search', 'patient_versions', 'record_entries', 'consents', 'documents', 'questionnaires']) {
      t.is((await trx(table).select()).length, 0, `${table} rows of another organization are invisible`);
    }
    t.is(await trx('patients').where({ id: patientId }).update({ version: 99 }), 0);
    t.is(await trx('patients').where({ id: patientId }).delete(), 0);
  });
  const err = await t.throwsAsync(withScope(app.services.db, { organizationId: otherOrg }, (trx) =>
    trx('record_entries').insert({ organization_id: organizationId, patient_id: patientId, kind: 'diagnosis', data: Buffer.alloc(40) })));
  t.regex(err!.message, /row-level security/);
  const appendOnly = await t.throwsAsync(withScope(app.services.db, { organizationId }, (trx) => trx('consents').where({ patient_id: patientId }).delete()));
  t.regex(appendOnly!.message, /permission denied/, 'the API role cannot delete from the append-only consent log');
  t.is((await app.services.db('patients').select()).length, 0, 'without a scope nothing is visible');
  t.is((await admin.get(`/api/v1/patients/${patientId}`)).body.patient.version, 1);
});
