// Art. 17 hard delete: retention override, erasure completeness in a database dump and the blob
// store, a restore of an earlier dump plus ledger replay; the retention scanner.
import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createDb } from '../../app/api/src/db/connection.ts';
import { migrateLatest } from '../../app/api/src/db/migrate.ts';
import { replayErasureLedger } from '../../app/api/src/modules/gdpr/erasure.service.ts';
import { verifyAuditChains } from '../../app/api/src/modules/audit/audit.verify.ts';
import { runScheduledRetention, SYSTEM_USER_ID } from '../../app/api/src/modules/retention/retention.scheduler.ts';
import { useSetUpApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase } from '../helpers/pg.ts';
import type { Client } from '../helpers/http-client.ts';
import { FREE_TEXT, HOTEL_SECRET, PHOTO_SECRET, dumpDatabase, fullPatient, ownerQuery } from './patients-fixtures.ts';
import { berlinDay } from '../helpers/days.ts';

let app: TestApp;
let admin: Client;

useSetUpApp(test, (env) => ({ app, admin } = env));

const OVERRIDE_REASON = 'Schreiben von Frau Gerlinde Pfaffenhuber vom 3. Mai, Rechtsabteilung geprüft';

test('inside the retention period a hard delete needs override, a reason category and a reason; the audit log holds the category in clear and the reason only encrypted', async (t) => {
  const { id } = await fullPatient(admin);
  await admin.post(`/api/v1/patients/${id}/treatments`, { performedOn: berlinDay(), type: 'FUE', description: 'OP' });
  const plain = await admin.post(`/api/v1/patients/${id}/erasure`, { confirm: true });
  t.is(plain.status, 409);
  t.is(plain.body.error, 'retention_period');
  const noCategory = await admin.post(`/api/v1/patients/${id}/erasure`, { confirm: true, override: true, reason: OVERRIDE_REASON });
  t.is(noCategory.status, 400);
  t.is(noCategory.body.details[0].field, 'body.reasonCategory');
  const noReason = await admin.post(`/api/v1/patients/${id}/erasure`, { confirm: true, override: true, reasonCategory: 'data_subject_request' });
  t.is(noReason.status, 400);
  t.is(noReason.body.details[0].field, 'body.reason');
  t.is((await admin.get(`/api/v1/patients/${id}`)).status, 200, 'nothing was deleted');
  const ok = await admin.post(`/api/v1/patients/${id}/erasure`, { confirm: true, override: true, reasonCategory: 'data_subject_request', reason: OVERRIDE_REASON });
  t.is(ok.status, 200, ok.text);
  const [entry] = await ownerQuery<{ details: Record<string, unknown>; text: string }>(app.db.ownerUrl, `select details, details::text as text from audit_log where action = 'patient.erase' and object_id = ?`, [id]);
  t.true(entry.details.override);
  t.is(entry.details.reasonCategory, 'data_subject_request');
  t.false(entry.text.includes('Pfaffenhuber'), 'no plaintext reason in the append-only audit log');
  t.false('reason' in entry.details);
  const record = await admin.get(`/api/v1/patients/${id}/erasure`);
  t.is(record.status, 200);
  t.like(record.body, { patientId: id, override: true, reasonCategory: 'data_subject_request', reason: OVERRIDE_REASON, reasonErased: false });
});

test('the override reason can be erased for good: its key is destroyed, the audit chain stays intact, and a ledger replay after a restore destroys the key again', async (t) => {
  const { id } = await fullPatient(admin);
  await admin.post(`/api/v1/patients/${id}/treatments`, { performedOn: berlinDay(), type: 'FUE', description: 'OP' });
  const ok = await admin.post(`/api/v1/patients/${id}/erasure`, { confirm: true, override: true, reasonCategory: 'other', reason: OVERRIDE_REASON });
  t.is(ok.status, 200, ok.text);
  const [key] = await ownerQuery<{ wrapped_key: Buffer }>(app.db.ownerUrl, `select wrapped_key from data_keys where scope = 'erasure_reason' and scope_id = ?`, [id]);
  t.truthy(key.wrapped_key);
  const erased = await admin.delete(`/api/v1/patients/${id}/erasure/reason`);
  t.is(erased.status, 200, erased.text);
  const record = await admin.get(`/api/v1/patients/${id}/erasure`);
  t.like(record.body, { reasonCategory: 'other', reason: null, reasonErased: true });
  t.is((await admin.delete(`/api/v1/patients/${id}/erasure/reason`)).status, 200, 'erasing again is harmless');
  // A restore of a backup taken before the reason was erased brings its key back: the replay
  // (ledger file) destroys it again.
  const owner = createDb(app.db.ownerUrl, 1);
  try {
    t.true((await verifyAuditChains(owner)).ok, 'the hash chain is untouched');
    await owner('data_keys').where({ scope: 'erasure_reason', scope_id: id }).update({ wrapped_key: key.wrapped_key, destroyed_at: null });
    await replayErasureLedger(owner, { dataDir: app.dataDir });
    const [after] = await owner('data_keys').where({ scope: 'erasure_reason', scope_id: id }).select('wrapped_key', 'destroyed_at');
    t.is(after.wrapped_key, null);
    t.truthy(after.destroyed_at);
  } finally {
    await owner.destroy();
  }
});

test('after a hard delete neither a database dump nor the blob store holds anything of the patient, and a restore plus ledger replay removes it again', async (t) => {
  const { id, input } = await fullPatient(admin);
  const derived = await ownerQuery<{ s: string }>(app.db.ownerUrl, 
    `select encode(token, 'hex') as s from patient_search where patient_id = ? and token not in (select token from patient_search where patient_id <> ?) union all select encode(data, 'hex') from patients where id = ?
     union all select encode(data, 'hex') from record_entries where patient_id = ? union all select encode(wrapped_key, 'hex') from data_keys where scope_id = ?`,
    [id, id, id, id, id],
  );
  const secrets = [input.givenName, input.familyName, input.email, input.phone.replace(/\s/g, ''), input.address.street, FREE_TEXT, PHOTO_SECRET, HOTEL_SECRET, 'Petrović', ...derived.map((r) => r.s)];
  const before = await dumpDatabase(app.db.superuserUrl);
  t.log(`dump tool: ${before.tool}`);
  t.true(derived.every((d) => before.text.includes(d.s)), 'the dump shows the derived values before the delete (the check can fail)');

  const res = await admin.post(`/api/v1/patients/${id}/erasure`, { confirm: true });
  t.is(res.status, 200, res.text);
  t.is(res.body.documentsDeleted, 1);
  t.is((await admin.get(`/api/v1/patients/${id}`)).status, 404);

  const after = await dumpDatabase(app.db.superuserUrl);
  for (const s of secrets) t.false(after.text.toLowerCase().includes(s.toLowerCase()), `dump still contains ${s.slice(0, 40)}`);
  const holding = await ownerQuery<{ t: string }>(app.db.ownerUrl, 
    `select 'audit_log' as t from audit_log where object_id = ? union select 'erasure_ledger' from erasure_ledger where patient_id = ?
     union select 'data_keys' from data_keys where scope_id = ? and wrapped_key is null`, [id, id, id]);
  t.deepEqual(holding.map((r) => r.t).sort(), ['audit_log', 'data_keys', 'erasure_ledger'], 'only ids remain: audit trail, ledger, the destroyed key\'s row');
  for (const file of await blobFiles()) {
    // Tests in this file run concurrently: another erasure may remove a blob between listing and reading.
    const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return undefined; throw err; });
    if (!bytes) continue;
    const content = bytes.toString('latin1');
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
    t.is((await ownerQuery(restored.ownerUrl, `select id from patients where id = ?`, [id])).length, 1, 'the old dump brought the patient back');
    const owner = createDb(restored.ownerUrl, 1);
    const replay = await replayErasureLedger(owner, { dataDir: app.dataDir });
    await owner.destroy();
    t.true(replay.patientsErasedAgain.includes(id), "the patient erased after the dump is erased again");
    t.is((await ownerQuery(restored.ownerUrl, `select id from patients where id = ?`, [id])).length, 0);
    t.is((await ownerQuery(restored.ownerUrl, `select 1 from data_keys where scope_id = ? and wrapped_key is not null`, [id])).length, 0, 'the restored data key is destroyed again');
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
  const old = await fullPatient(admin);
  await admin.post(`/api/v1/patients/${old.id}/treatments`, { performedOn: '2012-03-01', type: 'FUE', description: 'alt' });
  const fresh = await fullPatient(admin);
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
  const [stub] = await ownerQuery<{ data: unknown; last_treatment_on: unknown }>(app.db.ownerUrl, `select data, last_treatment_on from patients where id = ?`, [old.id]);
  t.is(stub.data, null);
  t.truthy(stub.last_treatment_on);
  t.is((await ownerQuery(app.db.ownerUrl, `select 1 from record_entries where patient_id = ? union all select 1 from documents where patient_id = ?`, [old.id, old.id])).length, 0);
  t.is((await ownerQuery(app.db.ownerUrl, `select 1 from audit_log where action = 'patient.anonymize' and object_id = ?`, [old.id])).length, 1);
});

test('a record never treated counts from the day of its last change in the practice\'s zone: changed at 00:30 in Berlin (still the day before in UTC) is that Berlin day', async (t) => {
  const p = await fullPatient(admin);
  await ownerQuery(app.db.ownerUrl, `update patients set updated_at = '2015-01-10T00:30:00+01:00' where id = ?`, [p.id]);
  const dry = await admin.get('/api/v1/retention/candidates');
  t.is(dry.status, 200, dry.text);
  const c = dry.body.candidates.find((x: { patientId: string }) => x.patientId === p.id);
  t.like(c, { lastTreatmentOn: null, basisOn: '2015-01-10' });
});

test.serial('the scheduled retention job lists, then anonymizes records past the period in every organization, as the system actor', async (t) => {
  const old = await fullPatient(admin);
  await admin.post(`/api/v1/patients/${old.id}/treatments`, { performedOn: '2011-05-02', type: 'FUE', description: 'alt' });
  const fresh = await fullPatient(admin);
  await admin.post(`/api/v1/patients/${fresh.id}/treatments`, { performedOn: '2025-05-02', type: 'FUE', description: 'neu' });
  const runs = await runScheduledRetention(app.services);
  t.is(runs.length, 1);
  t.true(runs[0].anonymized >= 1);
  t.is((await admin.get(`/api/v1/patients/${old.id}`)).status, 410);
  t.is((await admin.get(`/api/v1/patients/${fresh.id}`)).status, 200);
  const entries = await ownerQuery<{ action: string }>(app.db.ownerUrl,
    `select action from audit_log where actor_user_id = ? and action in ('retention.dry_run', 'retention.run', 'patient.anonymize') order by id`, [SYSTEM_USER_ID]);
  const actions = entries.map((e) => e.action);
  t.is(actions[0], 'retention.dry_run', 'the dry-run listing comes first');
  t.true(actions.includes('patient.anonymize'));
});
