// Issue 8, item 7: medical documents are not destroyed by a click. Removing a document hides it
// with a reason and keeps row, blob and a history entry (who, when, why); roles with
// documents.removed see and restore it; the export keeps it; only Art. 17 erasure destroys it.
import test from 'ava';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createDb, withScope } from '../../app/api/src/db/connection.ts';
import { blobDir } from '../../app/api/src/modules/documents/blob.repository.ts';
import { startTestApp, setupInstance, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { clientAs, jpegWithMetadata, multipart, samplePatient } from './patients-fixtures.ts';

let app: TestApp;
let admin: Client;
let staff: Client & { userId: string };
let doctor: Client & { userId: string };
let organizationId: string;

test.before(async () => {
  app = await startTestApp();
  ({ client: admin, organizationId } = await setupInstance(app));
  staff = await clientAs(app, organizationId, ['staff']);
  doctor = await clientAs(app, organizationId, ['doctor']);
});
test.after.always(async () => {
  await app?.stop();
  await app?.db.drop();
});

const REASON = 'Foto gehört zu Patientin Hannelore Quastberg';

async function patientWithPhoto(client: Client) {
  const p = await client.post('/api/v1/patients', samplePatient());
  if (p.status !== 201) throw new Error(p.text);
  const { body, contentType } = multipart({ category: 'front' }, { filename: 'front.jpg', data: jpegWithMetadata('x') });
  const up = await client.request('POST', `/api/v1/patients/${p.body.patient.id}/documents`, body, { 'content-type': contentType });
  if (up.status !== 201) throw new Error(up.text);
  return { patientId: p.body.patient.id as string, doc: up.body.document as { id: string; contentUrl: string } };
}

async function ownerQuery(sql: string, params: string[] = []) {
  const owner = createDb(app.db.ownerUrl, 1);
  try {
    return (await owner.raw(sql, params)).rows;
  } finally {
    await owner.destroy();
  }
}

async function blobOf(documentId: string): Promise<string> {
  const [row] = await ownerQuery('select blob_id from documents where id = ?', [documentId]);
  return path.join(blobDir(app.dataDir), row.blob_id.slice(0, 2), row.blob_id);
}

test.serial('staff removing a document hides it and keeps the row, the blob and who, when and why', async (t) => {
  const { patientId, doc } = await patientWithPhoto(staff);
  const base = `/api/v1/patients/${patientId}/documents`;
  const noReason = await staff.delete(`${base}/${doc.id}`);
  t.is(noReason.status, 400);
  t.is(noReason.body.details[0].field, 'body.reason');

  const removed = await staff.request('DELETE', `${base}/${doc.id}`, { reason: REASON });
  t.is(removed.status, 200, removed.text);
  t.truthy(removed.body.document.removedAt);
  t.is(removed.body.document.removedBy, staff.userId);
  t.deepEqual((await staff.get(base)).body.documents, [], 'hidden from the record');
  t.is((await staff.get(doc.contentUrl)).status, 404, 'staff cannot open a removed document');
  t.is((await staff.get(`${base}/removed`)).status, 403);
  t.is((await staff.post(`${base}/${doc.id}/restore`, {})).status, 403);

  t.true(existsSync(await blobOf(doc.id)), 'the encrypted blob is still there');
  const [row] = await ownerQuery('select removed_at, removed_by from documents where id = ?', [doc.id]);
  t.is(row.removed_by, staff.userId);
  const events = await ownerQuery('select action, actor_user_id, reason from document_events where document_id = ?', [doc.id]);
  t.is(events.length, 1);
  t.is(events[0].actor_user_id, staff.userId);
  t.false(Buffer.from(events[0].reason).toString('latin1').includes('Quastberg'), 'the reason is stored encrypted');
  const audit = await ownerQuery(`select details::text as d from audit_log where action = 'document.remove' and object_id = ?`, [patientId]);
  t.is(audit.length, 1);
  t.false(audit[0].d.includes('Quastberg'), 'the audit log holds no free text');
});

test.serial('a doctor sees removed documents with their history, opens them and restores them', async (t) => {
  const { patientId, doc } = await patientWithPhoto(staff);
  const base = `/api/v1/patients/${patientId}/documents`;
  await staff.request('DELETE', `${base}/${doc.id}`, { reason: REASON });

  const list = await doctor.get(`${base}/removed`);
  t.is(list.status, 200);
  t.is(list.body.documents.length, 1);
  t.like(list.body.documents[0].history[0], { action: 'removed', by: staff.userId, reason: REASON });
  t.is((await doctor.get(doc.contentUrl)).status, 200, 'a removed document stays viewable for documents.removed');

  const again = await staff.request('DELETE', `${base}/${doc.id}`, { reason: 'nochmal' });
  t.is(again.status, 409);

  const restored = await doctor.post(`${base}/${doc.id}/restore`, { reason: 'doch richtig zugeordnet' });
  t.is(restored.status, 200, restored.text);
  t.is(restored.body.document.removedAt, null);
  t.deepEqual((await staff.get(base)).body.documents.map((d: { id: string }) => d.id), [doc.id], 'back in the record');
  t.is((await staff.get(doc.contentUrl)).status, 200);
  const events = await ownerQuery('select action, actor_user_id from document_events where document_id = ? order by at', [doc.id]);
  t.deepEqual(events.map((e: { action: string }) => e.action), ['removed', 'restored']);
});

test.serial('the export keeps removed documents with their content and history; only Art. 17 erasure destroys them', async (t) => {
  const { patientId, doc } = await patientWithPhoto(staff);
  await staff.request('DELETE', `/api/v1/patients/${patientId}/documents/${doc.id}`, { reason: REASON });
  const exp = await admin.get(`/api/v1/patients/${patientId}/export`);
  t.is(exp.status, 200);
  const [exported] = exp.body.documents;
  t.is(exported.id, doc.id);
  t.truthy(exported.removedAt);
  t.truthy(exported.contentBase64);
  t.like(exp.body.documentEvents[0], { documentId: doc.id, action: 'removed', reason: REASON });
  const fhir = await admin.get(`/api/v1/patients/${patientId}/export?format=fhir`);
  const ref = fhir.body.entry.map((e: { resource: Record<string, unknown> }) => e.resource).find((r: Record<string, unknown>) => r.id === doc.id);
  t.is(ref.status, 'entered-in-error');

  const blob = await blobOf(doc.id);
  const erased = await admin.post(`/api/v1/patients/${patientId}/erasure`, { confirm: true });
  t.is(erased.status, 200, erased.text);
  t.false(existsSync(blob), 'erasure deletes the blob');
  t.deepEqual(await ownerQuery('select id from documents where id = ?', [doc.id]), []);
  t.deepEqual(await ownerQuery('select id from document_events where document_id = ?', [doc.id]), []);
});

test.serial('the application role cannot delete a document row at all (only the owner-side paths can)', async (t) => {
  const { doc } = await patientWithPhoto(staff);
  const err = await t.throwsAsync(withScope(app.services.db, { organizationId, userId: staff.userId }, (trx) => trx('documents').where({ id: doc.id }).delete()));
  t.regex(err!.message, /permission denied/);
  const err2 = await t.throwsAsync(withScope(app.services.db, { organizationId, userId: staff.userId }, (trx) => trx('documents').where({ id: doc.id }).update({ category: 'other' })));
  t.regex(err2!.message, /permission denied/);
});
