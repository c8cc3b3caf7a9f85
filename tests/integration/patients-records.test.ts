// Patients, search, duplicates, rectification, the health record and consents through real HTTP.
import test from 'ava';
import { createDb, withScope } from '../../app/api/src/db/connection.ts';
import { hasConsent } from '../../app/api/src/modules/consent/consent.service.ts';
import { useSetUpApp, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { samplePatient } from './patients-fixtures.ts';

let app: TestApp;
let admin: Client;
let organizationId: string;

useSetUpApp(test, (env) => ({ app, admin, organizationId } = env));

async function create(overrides: Record<string, unknown> = {}) {
  const res = await admin.post('/api/v1/patients', samplePatient(overrides));
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`);
  return res.body.patient;
}
const ids = async (body: Record<string, string>) => (await admin.post('/api/v1/patients/search', body)).body.items.map((i: { id: string }) => i.id).sort();

test('a created patient reads back with normalized phone numbers and lower-case e-mail', async (t) => {
  const p = await create({ email: 'Mixed.Case@Example.ORG', phone: '0049 (171) 123-4567' });
  const res = await admin.get(`/api/v1/patients/${p.id}`);
  t.is(res.status, 200);
  t.is(res.body.patient.phone, '+491711234567');
  t.is(res.body.patient.email, 'mixed.case@example.org');
  t.is(res.body.patient.version, 1);
  t.false(res.body.patient.restricted);
});

test('search finds by name prefix in either umlaut spelling, birth date and phone in national format', async (t) => {
  const p = await create({ givenName: 'Ottilie', familyName: 'Wäldersberg', birthDate: '1971-02-03', phone: '+49 151 9876543' });
  t.deepEqual(await ids({ q: 'wäld' }), [p.id]);
  t.deepEqual(await ids({ q: 'Waeldersberg' }), [p.id]);
  t.deepEqual(await ids({ q: 'otti wald' }), [p.id]);
  t.deepEqual(await ids({ q: 'Ottilie 03.02.1971' }), [p.id]);
  t.deepEqual(await ids({ birthDate: '1971-02-03' }), [p.id]);
  t.deepEqual(await ids({ q: '0151 9876543' }), [p.id]);
  t.deepEqual(await ids({ phone: '+491519876543' }), [p.id]);
  t.deepEqual(await ids({ q: 'Ottilie 04.02.1971' }), [], 'all words must match');
  t.deepEqual(await ids({ q: 'ldersberg' }), [], 'no substring search (documented)');
  const short = await admin.post('/api/v1/patients/search', { q: 'ot' });
  t.is(short.status, 400);
  t.is(short.body.details[0].field, 'body.q');
});

test('the database holds no plaintext name, phone or e-mail of a patient', async (t) => {
  const p = await create({ givenName: 'Plaintextcheck', email: 'plaintextcheck@example.org' });
  const owner = createDb(app.db.ownerUrl, 1);
  const { rows } = await owner.raw(`select (select string_agg(t::text, '') from patients t) || (select string_agg(t::text, '') from patient_search t) as all`);
  await owner.destroy();
  t.truthy(p.id);
  t.false(rows[0].all.includes('Plaintextcheck'));
  t.false(rows[0].all.toLowerCase().includes('plaintextcheck'));
  t.false(rows[0].all.includes('1984-03-17'));
});

test('a likely duplicate (same birth date and name, or same phone) needs allowDuplicate', async (t) => {
  const first = await create({ givenName: 'Dupli', familyName: 'Katowski', birthDate: '1990-09-09' });
  const again = await admin.post('/api/v1/patients', samplePatient({ givenName: 'Dupli', familyName: 'Katowski', birthDate: '1990-09-09' }));
  t.is(again.status, 409);
  t.is(again.body.details.reason, 'possible_duplicate');
  t.deepEqual(again.body.details.duplicates, [first.id]);
  const samePhone = await admin.post('/api/v1/patients', samplePatient({ phone: first.phone }));
  t.is(samePhone.status, 409);
  const forced = await admin.post('/api/v1/patients', { ...samplePatient({ givenName: 'Dupli', familyName: 'Katowski', birthDate: '1990-09-09' }), allowDuplicate: true });
  t.is(forced.status, 201);
});

test('the list is paginated and sorted by a stored key', async (t) => {
  for (let i = 0; i < 4; i++) await create();
  const page1 = await admin.get('/api/v1/patients?limit=2&offset=0&sort=created_at&order=asc');
  const page2 = await admin.get('/api/v1/patients?limit=2&offset=2&sort=created_at&order=asc');
  t.is(page1.status, 200);
  t.is(page1.body.items.length, 2);
  t.true(page1.body.total >= 4);
  t.notDeepEqual(page1.body.items[0].id, page2.body.items[0].id);
  t.true(page1.body.items[1].createdAt <= page2.body.items[0].createdAt);
  const bad = await admin.get('/api/v1/patients?sort=family_name');
  t.is(bad.status, 400);
  t.is(bad.body.details[0].field, 'query.sort');
});

test('rectification (Art. 16) changes the data and keeps the previous version with its reason', async (t) => {
  const p = await create({ familyName: 'Vorherig' });
  const res = await admin.patch(`/api/v1/patients/${p.id}`, { changes: { familyName: 'Nachherig', email: null }, reason: 'Heirat', expectedVersion: 1 });
  t.is(res.status, 200);
  t.is(res.body.patient.familyName, 'Nachherig');
  t.is(res.body.patient.email, undefined);
  t.is(res.body.patient.version, 2);
  const stale = await admin.patch(`/api/v1/patients/${p.id}`, { changes: { givenName: 'X' }, expectedVersion: 1 });
  t.is(stale.status, 409);
  const history = await admin.get(`/api/v1/patients/${p.id}/history`);
  t.is(history.body.versions.length, 1);
  t.is(history.body.versions[0].data.familyName, 'Vorherig');
  t.is(history.body.versions[0].reason, 'Heirat');
  t.deepEqual(await ids({ q: 'vorherig' }), [], 'the search index follows the current version');
  t.deepEqual(await ids({ q: 'nachherig' }), [p.id]);
});

const answers = { smoker: true, cigarettes_per_day: 30, blood_thinners: false, hair_status: 'norwood_4', conditions: ['Hypertonie'], medication: ['Ramipril'] };

test('an anamnesis is validated against its questionnaire and pre-qualified by the rules', async (t) => {
  const p = await create();
  const res = await admin.post(`/api/v1/patients/${p.id}/anamnesis`, { answers });
  t.is(res.status, 201, res.text);
  t.is(res.body.entry.data.prequalification.status, 'needs_review');
  t.deepEqual(res.body.entry.data.prequalification.reasons.map((r: { rule: string }) => r.rule), ['heavy_smoker']);
  t.deepEqual(res.body.entry.data.questionnaire, { key: 'anamnesis', version: 1 });
  const minor = await create({ birthDate: `${new Date().getUTCFullYear() - 16}-01-01` });
  const r2 = await admin.post(`/api/v1/patients/${minor.id}/anamnesis`, { answers: { smoker: false, blood_thinners: false, hair_status: 'norwood_2' } });
  t.is(r2.body.entry.data.prequalification.status, 'not_qualified');
  const ok = await admin.post(`/api/v1/patients/${p.id}/anamnesis`, { answers: { smoker: false, blood_thinners: false, hair_status: 'norwood_3' } });
  t.is(ok.body.entry.data.prequalification.status, 'qualified');
  const record = await admin.get(`/api/v1/patients/${p.id}/record`);
  t.is(record.body.anamnesis.id, ok.body.entry.id, 'the record shows the newest anamnesis');
});

test('a published questionnaire version with its own rules is used for new answers', async (t) => {
  const current = (await admin.get('/api/v1/questionnaires/anamnesis')).body.questionnaire;
  const definition = { ...current.definition, rules: [{ id: 'any_smoker', all: [{ field: 'smoker', op: 'eq', value: true }], outcome: 'not_qualified', reason: { de: 'Raucher', en: 'Smoker' } }] };
  const pub = await admin.post('/api/v1/questionnaires', { key: 'anamnesis_v2test', title: 'Test', definition });
  t.is(pub.status, 201, pub.text);
  const p = await create();
  const res = await admin.post(`/api/v1/patients/${p.id}/anamnesis`, { questionnaireKey: 'anamnesis_v2test', answers });
  t.is(res.body.entry.data.prequalification.status, 'not_qualified');
  const broken = await admin.post('/api/v1/questionnaires', { key: 'broken', title: 'x', definition: { fields: [{ key: 'a', type: 'choice', label: { de: 'a', en: 'a' } }], rules: [] } });
  t.is(broken.status, 400);
  t.is(broken.body.details[0].field, 'body.definition.fields.0.options');
});

test('diagnoses, treatments and plans are appended; a correction supersedes and keeps the original', async (t) => {
  const p = await create();
  const d1 = await admin.post(`/api/v1/patients/${p.id}/diagnoses`, { code: 'l64.9', text: 'Androgenetische Alopezie' });
  t.is(d1.status, 201, d1.text);
  t.is(d1.body.entry.data.code, 'L64.9');
  const d2 = await admin.post(`/api/v1/patients/${p.id}/diagnoses`, { code: 'L64.8', text: 'Sonstige androgenetische Alopezie', supersedesId: d1.body.entry.id, correctionReason: 'Kodierfehler' });
  t.is(d2.status, 201, d2.text);
  t.is(d2.body.entry.version, 2);
  const again = await admin.post(`/api/v1/patients/${p.id}/diagnoses`, { code: 'L64.0', text: 'x', supersedesId: d1.body.entry.id, correctionReason: 'y' });
  t.is(again.status, 409, 'only the newest version can be corrected');
  const tr = await admin.post(`/api/v1/patients/${p.id}/treatments`, { performedOn: '2024-05-02', type: 'FUE', description: '2500 Grafts' });
  t.is(tr.status, 201);
  const plan = await admin.post(`/api/v1/patients/${p.id}/plans`, { title: 'FUE 2. Sitzung', status: 'proposed', steps: [{ description: 'Blutbild', due: '2030-01-01' }] });
  t.is(plan.status, 201);
  const record = (await admin.get(`/api/v1/patients/${p.id}/record`)).body;
  t.deepEqual(record.diagnoses.map((d: { data: { code: string } }) => d.data.code), ['L64.8']);
  t.is(record.treatments.length, 1);
  t.is(record.plans.length, 1);
  const history = await admin.get(`/api/v1/patients/${p.id}/record/entries/${d2.body.entry.id}/history`);
  t.deepEqual(history.body.versions.map((v: { data: { code: string } }) => v.data.code), ['L64.9', 'L64.8']);
  t.is((await admin.get(`/api/v1/patients/${p.id}`)).body.patient.lastTreatmentOn, '2024-05-02');
});

test('consents are logged per purpose; hasConsent follows the newest entry', async (t) => {
  const p = await create();
  const grant = await admin.post(`/api/v1/patients/${p.id}/consents`, { purpose: 'whatsapp_contact', action: 'granted', textVersion: '2026-01', channel: 'paper' });
  t.is(grant.status, 201, grant.text);
  const check = () => withScope(app.services.db, { organizationId }, (trx) => hasConsent(trx, p.id, 'whatsapp_contact'));
  t.true(await check());
  await admin.post(`/api/v1/patients/${p.id}/consents`, { purpose: 'whatsapp_contact', action: 'withdrawn', textVersion: '2026-01', channel: 'phone', note: 'telefonisch' });
  t.false(await check());
  const log = await admin.get(`/api/v1/patients/${p.id}/consents`);
  t.is(log.body.log.length, 2);
  t.is(log.body.log[1].note, 'telefonisch');
  t.false(log.body.current.whatsapp_contact);
  t.false(log.body.current.ai_preparation);
  const bad = await admin.post(`/api/v1/patients/${p.id}/consents`, { purpose: 'marketing_spam', action: 'granted', textVersion: '1', channel: 'paper' });
  t.is(bad.status, 400);
  t.is(bad.body.details[0].field, 'body.purpose');
});

test('reads of master data, health record and consents are in the patient\'s access log', async (t) => {
  const p = await create();
  await admin.get(`/api/v1/patients/${p.id}`);
  await admin.get(`/api/v1/patients/${p.id}/record`);
  await admin.get(`/api/v1/patients/${p.id}/consents`);
  const log = await admin.get(`/api/v1/patients/${p.id}/access-log`);
  t.is(log.status, 200);
  const actions = log.body.entries.map((e: { action: string }) => e.action);
  for (const a of ['patient.create', 'patient.read', 'health_record.read', 'consent.read']) t.true(actions.includes(a), a);
  t.truthy(log.body.entries[0].userId);
});
