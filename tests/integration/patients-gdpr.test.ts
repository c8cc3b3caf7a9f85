// Data-subject rights: export completeness (JSON and FHIR), restriction, objection, hard delete
// with crypto-shredding and the erasure ledger across a restore, and the retention scanner.
import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createDb, withScope } from '../../app/api/src/db/connection.ts';
import { migrateLatest } from '../../app/api/src/db/migrate.ts';
import { masterData } from '../../app/api/src/modules/patients/patient.schema.ts';
import { automatedProcessingAllowed } from '../../app/api/src/modules/gdpr/restriction.service.ts';
import { replayErasureLedger } from '../../app/api/src/modules/gdpr/erasure.service.ts';
import { EXPORT_SECTIONS, NOT_EXPORTED, camel } from '../../app/api/src/modules/gdpr/export.rows.ts';
import { startTestApp, setupInstance, type TestApp } from '../helpers/app.ts';
import { createTestDatabase } from '../helpers/pg.ts';
import type { Client } from '../helpers/http-client.ts';
import { dumpDatabase, jpegWithMetadata, multipart, samplePatient } from './patients-fixtures.ts';

let app: TestApp;
let admin: Client;
let organizationId: string;

test.before(async () => {
  app = await startTestApp();
  ({ client: admin, organizationId } = await setupInstance(app));
});
test.after.always(async () => {
  await app?.stop();
  await app?.db.drop();
});

const FREE_TEXT = 'Vertraulich-Anamnese-Xylophon';

/** A patient with something in every table: versions, every entry kind, consents, a photo. */
async function fullPatient(overrides: Record<string, unknown> = {}) {
  const input = samplePatient(overrides);
  const p = (await admin.post('/api/v1/patients', input)).body.patient;
  const base = `/api/v1/patients/${p.id}`;
  const must = async (res: Promise<{ status: number; text: string }>, status = 201) => {
    const r = await res;
    if (r.status !== status) throw new Error(`${r.status} ${r.text}`);
  };
  await must(admin.patch(base, { changes: { language: 'en' }, reason: 'Patient wünscht Englisch' }), 200);
  await must(admin.post(`${base}/anamnesis`, { answers: { smoker: false, blood_thinners: true, blood_thinner_name: 'ASS', hair_status: 'norwood_3', allergies: ['Latex'], free_text: FREE_TEXT } }));
  await must(admin.post(`${base}/diagnoses`, { code: 'L64.9', text: 'Androgenetische Alopezie', diagnosedOn: '2020-01-01' }));
  await must(admin.post(`${base}/plans`, { title: 'FUE', steps: [{ description: 'Vorgespräch' }], notes: 'Notiz' }));
  await must(admin.post(`${base}/consents`, { purpose: 'photo_use', action: 'granted', textVersion: 'v2', channel: 'web', note: 'online' }));
  const photo = multipart({ category: 'front', note: 'Frontalansicht' }, { filename: `${input.familyName}.jpg`, data: jpegWithMetadata('GPS-52.5200N') });
  await must(admin.request('POST', `${base}/documents`, photo.body, { 'content-type': photo.contentType }));
  return { id: p.id as string, input };
}

async function ownerQuery<T = Record<string, unknown>>(sql: string, bindings: unknown[] = [], url = app.db.ownerUrl): Promise<T[]> {
  const owner = createDb(url, 1);
  try {
    return (await owner.raw(sql, bindings as never)).rows;
  } finally {
    await owner.destroy();
  }
}

test('the JSON export holds every column of every patient table, decrypted, plus documents and access trail', async (t) => {
  const { id, input } = await fullPatient();
  await admin.post(`/api/v1/patients/${id}/treatments`, { performedOn: '2020-02-02', type: 'PRP', description: 'Sitzung 1' });
  const res = await admin.get(`/api/v1/patients/${id}/export`);
  t.is(res.status, 200);
  const x = res.body;
  // The field list comes from the schema: every table with a patient_id column (and patients).
  const cols = await ownerQuery<{ table_name: string; column_name: string }>(
    `select table_name, column_name from information_schema.columns where table_schema = 'public'
       and table_name in (select table_name from information_schema.columns where table_schema = 'public' and column_name = 'patient_id' union select 'patients')
       order by table_name, ordinal_position`,
  );
  const tables = [...new Set(cols.map((c) => c.table_name))];
  for (const table of tables) {
    if (NOT_EXPORTED[table]) continue;
    const section = EXPORT_SECTIONS[table];
    t.truthy(section, `table ${table} is neither exported nor listed as not exported`);
    const rows = Array.isArray(x[section]) ? x[section] : [x[section]];
    t.true(rows.length > 0, `export section ${section} is empty`);
    for (const c of cols.filter((c) => c.table_name === table)) t.true(camel(c.column_name) in rows[0], `${table}.${c.column_name} is missing from ${section}`);
  }
  for (const field of Object.keys(masterData.shape)) t.true(field in x.patient.data, `master data field ${field} is missing`);
  t.is(x.patient.data.familyName, input.familyName);
  t.is(x.masterDataHistory[0].reason, 'Patient wünscht Englisch');
  t.deepEqual(new Set(x.recordEntries.map((e: { kind: string }) => e.kind)), new Set(['anamnesis', 'diagnosis', 'plan', 'treatment']));
  t.is(x.recordEntries.find((e: { kind: string }) => e.kind === 'anamnesis').data.answers.free_text, FREE_TEXT);
  t.is(x.documents[0].filename, `${input.familyName}.jpg`);
  t.false(Buffer.from(x.documents[0].contentBase64, 'base64').toString('latin1').includes('GPS-52.5200N'), 'the stored photo has no EXIF');
  t.true(x.auditTrail.some((a: { action: string }) => a.action === 'patient.create'));
  t.is(x.questionnaires[0].key, 'anamnesis');
});

test('the FHIR export is an R4 Bundle with every resource type', async (t) => {
  const { id, input } = await fullPatient();
  await admin.post(`/api/v1/patients/${id}/treatments`, { performedOn: '2020-02-02', type: 'PRP', description: 'Sitzung 1' });
  const res = await admin.get(`/api/v1/patients/${id}/export?format=fhir`);
  t.is(res.status, 200);
  t.regex(res.headers.get('content-type') ?? '', /application\/fhir\+json/);
  t.is(res.body.resourceType, 'Bundle');
  t.is(res.body.type, 'collection');
  const types = res.body.entry.map((e: { resource: { resourceType: string } }) => e.resource.resourceType).sort();
  t.deepEqual([...new Set(types)], ['CarePlan', 'Condition', 'Consent', 'DocumentReference', 'Patient', 'Procedure', 'QuestionnaireResponse']);
  const patient = res.body.entry[0].resource;
  t.is(patient.name[0].family, input.familyName);
  t.is(patient.birthDate, input.birthDate);
  for (const e of res.body.entry) t.is(e.fullUrl, `urn:uuid:${e.resource.id}`);
  const condition = res.body.entry.find((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Condition').resource;
  t.is(condition.code.coding[0].system, 'http://fhir.de/CodeSystem/bfarm/icd-10-gm');
  t.is(condition.subject.reference, `urn:uuid:${id}`);
});

test('a restricted record (Art. 18) is readable but every write is refused with 423', async (t) => {
  const { id } = await fullPatient();
  const base = `/api/v1/patients/${id}`;
  t.is((await admin.post(`${base}/restriction`, { restricted: true, reason: 'Richtigkeit bestritten' })).status, 200);
  const get = await admin.get(base);
  t.is(get.status, 200);
  t.true(get.body.patient.restricted);
  t.is(get.body.patient.restrictionReason, 'Richtigkeit bestritten');
  const photo = multipart({ category: 'side' }, { filename: 'a.jpg', data: jpegWithMetadata('x') });
  const writes = [
    admin.patch(base, { changes: { givenName: 'Neu' } }),
    admin.post(`${base}/diagnoses`, { code: 'L65.9', text: 'x' }),
    admin.post(`${base}/treatments`, { performedOn: '2021-01-01', type: 'x', description: 'y' }),
    admin.post(`${base}/plans`, { title: 'x' }),
    admin.post(`${base}/anamnesis`, { answers: { smoker: false, blood_thinners: false, hair_status: 'norwood_1' } }),
    admin.request('POST', `${base}/documents`, photo.body, { 'content-type': photo.contentType }),
  ];
  for (const res of await Promise.all(writes)) {
    t.is(res.status, 423, res.text);
    t.is(res.body.error, 'restricted');
    t.regex(res.body.message, /Art\. 18/);
  }
  t.is((await admin.post(`${base}/consents`, { purpose: 'photo_use', action: 'withdrawn', textVersion: 'v2', channel: 'paper' })).status, 201, 'withdrawing consent stays possible');
  t.false(await withScope(app.services.db, { organizationId }, (trx) => automatedProcessingAllowed(trx, id)));
  t.is((await admin.post(`${base}/restriction`, { restricted: false })).status, 200);
  t.is((await admin.patch(base, { changes: { givenName: 'Neu' } })).status, 200);
});

test('an objection (Art. 21) switches automated processing off for that patient only', async (t) => {
  const a = await fullPatient();
  const b = await fullPatient();
  const allowed = (id: string) => withScope(app.services.db, { organizationId }, (trx) => automatedProcessingAllowed(trx, id));
  t.true(await allowed(a.id));
  const res = await admin.post(`/api/v1/patients/${a.id}/objection`, { objected: true });
  t.is(res.status, 200);
  t.false(res.body.automatedProcessingAllowed);
  t.false(await allowed(a.id));
  t.true(await allowed(b.id));
  t.true((await admin.get(`/api/v1/patients/${a.id}`)).body.patient.objection);
  await admin.post(`/api/v1/patients/${a.id}/objection`, { objected: false });
  t.true(await allowed(a.id));
});

test('inside the retention period a hard delete needs override and a reason, recorded in the audit log', async (t) => {
  const { id } = await fullPatient();
  await admin.post(`/api/v1/patients/${id}/treatments`, { performedOn: new Date().toISOString().slice(0, 10), type: 'FUE', description: 'OP' });
  const plain = await admin.post(`/api/v1/patients/${id}/erasure`, { confirm: true });
  t.is(plain.status, 409);
  t.is(plain.body.error, 'retention_period');
  const noReason = await admin.post(`/api/v1/patients/${id}/erasure`, { confirm: true, override: true });
  t.is(noReason.status, 400);
  t.is(noReason.body.details[0].field, 'body.reason');
  t.is((await admin.get(`/api/v1/patients/${id}`)).status, 200, 'nothing was deleted');
  const ok = await admin.post(`/api/v1/patients/${id}/erasure`, { confirm: true, override: true, reason: 'Widerruf, Rechtsabteilung geprüft' });
  t.is(ok.status, 200, ok.text);
  const [entry] = await ownerQuery<{ details: { override: boolean; reason: string } }>(`select details from audit_log where action = 'patient.erase' and object_id = ?`, [id]);
  t.true(entry.details.override);
  t.is(entry.details.reason, 'Widerruf, Rechtsabteilung geprüft');
});

test('after a hard delete neither a database dump nor the blob store holds anything of the patient, and a restore plus ledger replay removes it again', async (t) => {
  const { id, input } = await fullPatient();
  const derived = await ownerQuery<{ s: string }>(
    `select encode(token, 'hex') as s from patient_search where patient_id = ? and token not in (select token from patient_search where patient_id <> ?) union all select encode(data, 'hex') from patients where id = ?
     union all select encode(data, 'hex') from record_entries where patient_id = ? union all select encode(wrapped_key, 'hex') from data_keys where scope_id = ?`,
    [id, id, id, id, id],
  );
  const secrets = [input.givenName, input.familyName, input.email, input.phone.replace(/\s/g, ''), input.address.street, FREE_TEXT, 'GPS-52.5200N', ...derived.map((r) => r.s)];
  const before = await dumpDatabase(app.db.superuserUrl);
  t.log(`dump tool: ${before.tool}`);
  t.true(derived.every((d) => before.text.includes(d.s)), 'the dump shows the derived values before the delete (the check can fail)');

  const res = await admin.post(`/api/v1/patients/${id}/erasure`, { confirm: true });
  t.is(res.status, 200, res.text);
  t.is(res.body.documentsDeleted, 1);
  t.is((await admin.get(`/api/v1/patients/${id}`)).status, 404);

  const after = await dumpDatabase(app.db.superuserUrl);
  for (const s of secrets) t.false(after.text.toLowerCase().includes(s.toLowerCase()), `dump still contains ${s.slice(0, 40)}`);
  const holding = await ownerQuery<{ t: string }>(
    `select 'audit_log' as t from audit_log where object_id = ? union select 'erasure_ledger' from erasure_ledger where patient_id = ?
     union select 'data_keys' from data_keys where scope_id = ? and wrapped_key is null`, [id, id, id]);
  t.deepEqual(holding.map((r) => r.t).sort(), ['audit_log', 'data_keys', 'erasure_ledger'], 'only ids remain: audit trail, ledger, the destroyed key\'s row');
  for (const file of await blobFiles()) {
    const content = (await readFile(file)).toString('latin1');
    for (const s of secrets) t.false(content.includes(s), `blob ${file} contains ${s}`);
  }

  // Restore the earlier dump into a fresh database and replay the ledger (file copy in the data dir).
  const restored = await createTestDatabase();
  try {
    if (before.tool === 'sql') {
      const owner = createDb(restored.ownerUrl, 1);
      await migrateLatest(owner);
      await owner.destroy();
    }
    await before.restoreInto(restored.superuserUrl);
    t.is((await ownerQuery(`select id from patients where id = ?`, [id], restored.ownerUrl)).length, 1, 'the old dump brought the patient back');
    const owner = createDb(restored.ownerUrl, 1);
    const replay = await replayErasureLedger(owner, { dataDir: app.dataDir });
    await owner.destroy();
    t.true(replay.patientsErasedAgain.includes(id), "the patient erased after the dump is erased again");
    t.is((await ownerQuery(`select id from patients where id = ?`, [id], restored.ownerUrl)).length, 0);
    t.is((await ownerQuery(`select 1 from data_keys where scope_id = ? and wrapped_key is not null`, [id], restored.ownerUrl)).length, 0, 'the restored data key is destroyed again');
    const again = await dumpDatabase(restored.superuserUrl);
    for (const s of secrets) t.false(again.text.toLowerCase().includes(s.toLowerCase()), `restored dump still contains ${s.slice(0, 40)}`);
  } finally {
    await restored.drop();
  }
});

async function blobFiles(): Promise<string[]> {
  const root = path.join(app.dataDir, 'blobs');
  const out: string[] = [];
  for (const shard of await readdir(root).catch(() => [])) for (const f of await readdir(path.join(root, shard))) out.push(path.join(root, shard, f));
  return out;
}

test('the retention scanner lists in a dry run, then anonymizes records past the period, audited', async (t) => {
  const old = await fullPatient();
  await admin.post(`/api/v1/patients/${old.id}/treatments`, { performedOn: '2012-03-01', type: 'FUE', description: 'alt' });
  const fresh = await fullPatient();
  await admin.post(`/api/v1/patients/${fresh.id}/treatments`, { performedOn: '2024-03-01', type: 'FUE', description: 'neu' });
  const dry = await admin.get('/api/v1/retention/candidates');
  t.is(dry.status, 200);
  const listed = dry.body.candidates.map((c: { patientId: string }) => c.patientId);
  t.true(listed.includes(old.id));
  t.false(listed.includes(fresh.id));
  t.is((await admin.get(`/api/v1/patients/${old.id}`)).status, 200, 'a dry run changes nothing');
  const run = await admin.post('/api/v1/retention/run', { dryRun: false });
  t.is(run.status, 200);
  t.true(run.body.anonymized.includes(old.id));
  t.is((await admin.get(`/api/v1/patients/${old.id}`)).status, 410);
  t.is((await admin.get(`/api/v1/patients/${fresh.id}`)).status, 200);
  const [stub] = await ownerQuery<{ data: unknown; last_treatment_on: unknown }>(`select data, last_treatment_on from patients where id = ?`, [old.id]);
  t.is(stub.data, null);
  t.truthy(stub.last_treatment_on);
  t.is((await ownerQuery(`select 1 from record_entries where patient_id = ? union all select 1 from documents where patient_id = ?`, [old.id, old.id])).length, 0);
  t.is((await ownerQuery(`select 1 from audit_log where action = 'patient.anonymize' and object_id = ?`, [old.id])).length, 1);
});
