// Art. 15/20 export completeness (JSON field list derived from the schema; FHIR R4 Bundle),
// Art. 18 restriction and Art. 21 objection enforced by the API.
import test from 'ava';
import { withScope } from '../../app/api/src/db/connection.ts';
import { masterData } from '../../app/api/src/modules/patients/patient.schema.ts';
import { patientKey, sealJson } from '../../app/api/src/modules/patients/patient.crypto.ts';
import { automatedProcessingAllowed } from '../../app/api/src/modules/gdpr/restriction.service.ts';
import { EXPORT_SECTIONS, NOT_EXPORTED, camel } from '../../app/api/src/modules/gdpr/export.rows.ts';
import { startTestApp, setupInstance, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { FREE_TEXT, HOTEL_SECRET, PHOTO_SECRET, fullPatient, jpegWithMetadata, multipart, ownerQuery } from './patients-fixtures.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../helpers/fake-anthropic.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

let app: TestApp;
let admin: Client;
let organizationId: string;
let fakeAi: FakeAnthropic;

test.before(async () => {
  fakeAi = await startFakeAnthropic();
  const aiDir = mkdtempSync(path.join(tmpdir(), 'pk-ai-'));
  writeFileSync(path.join(aiDir, 'anthropic.key'), 'sk-ant-export-test', { mode: 0o600 });
  app = await startTestApp({ PRAXISKERN_AI_SECRETS_DIR: aiDir });
  ({ client: admin, organizationId } = await setupInstance(app));
});
test.after.always(async () => {
  await app?.stop();
  await app?.db.drop();
  await fakeAi?.close();
});

test('the JSON export holds every column of every patient table, decrypted, plus documents and access trail', async (t) => {
  const { id, input } = await fullPatient(admin);
  await admin.post(`/api/v1/patients/${id}/treatments`, { performedOn: '2020-02-02', type: 'PRP', description: 'Sitzung 1' });
  const [doc] = (await admin.get(`/api/v1/patients/${id}/documents`)).body.documents;
  t.is((await admin.request('DELETE', `/api/v1/patients/${id}/documents/${doc.id}`, { reason: 'falsch zugeordnet?' })).status, 200);
  t.is((await admin.post(`/api/v1/patients/${id}/documents/${doc.id}/restore`, { reason: 'Zuordnung geprüft' })).status, 200);
  // A message to the patient (blocked: no channel is on) and an inbound WhatsApp message as the webhook processor stores it.
  t.is((await admin.post(`/api/v1/patients/${id}/messages`, { purpose: 'document_request', channel: 'email', variables: { documentName: 'Befund' } })).status, 201);
  await withScope(app.services.db, { organizationId }, async (trx) => {
    const inboundId = crypto.randomUUID();
    const content = await sealJson(app.services.keys, trx, patientKey(organizationId, id), `inbound:${inboundId}`, { type: 'text', text: 'Hallo Praxis' });
    await trx('inbound_messages').insert({ id: inboundId, organization_id: organizationId, patient_id: id, provider: 'meta', kind: 'text', content, received_at: new Date() });
    await trx('conversations').insert({ organization_id: organizationId, patient_id: id, done_at: new Date() });
  });
  // An aftercare plan applied to the patient's treatment plan (steps with encrypted titles).
  const template = await admin.post('/api/v1/aftercare/templates', { nameDe: 'OP-Nachsorge', nameEn: 'Surgery aftercare', steps: [{ dayOffset: 1, titleDe: 'Kontrolle', titleEn: 'Check', sendMessage: true, bookAppointment: true }] });
  t.is(template.status, 201, template.text);
  const [planEntry] = await ownerQuery<{ id: string }>(app.db.ownerUrl, "select id from record_entries where patient_id = ? and kind = 'plan'", [id]);
  t.is((await admin.post(`/api/v1/patients/${id}/aftercare`, { templateId: template.body.template.id, planEntryId: planEntry.id, anchorDate: '2026-06-01' })).status, 201);
  // Finance: a quote with a deposit, a payment, a refund and a Stripe payment link.
  const quote = await admin.post(`/api/v1/patients/${id}/quotes`, { planEntryId: planEntry.id, currency: 'EUR', items: [{ description: 'Eingriff laut Plan', quantity: 1, unitCents: 150000, vatCategory: 'medical_exempt' }] });
  t.is(quote.status, 201, quote.text);
  const quoteId = quote.body.quote.id;
  t.is((await admin.post(`/api/v1/quotes/${quoteId}/status`, { status: 'sent' })).status, 200);
  t.is((await admin.post(`/api/v1/quotes/${quoteId}/deposits`, { amountCents: 50000, dueDate: '2026-06-01' })).status, 201);
  const paid = await admin.post(`/api/v1/quotes/${quoteId}/payments`, { amountCents: 50000, method: 'bank_transfer', paidOn: '2026-01-02' });
  t.is(paid.status, 201, paid.text);
  t.is((await admin.post(`/api/v1/finance/payments/${paid.body.quote.payments[0].id}/refunds`, { amountCents: 100, refundedOn: '2026-01-03' })).status, 201);
  await withScope(app.services.db, { organizationId }, (trx) => trx('stripe_checkouts').insert({ organization_id: organizationId, patient_id: id, quote_id: quoteId, session_id: 'cs_test_export', url: 'https://checkout.stripe.test/cs', amount_cents: 100000 }));
  // An AI preparation (issue 13): the disclosure to Anthropic and the draft.
  t.is((await admin.put('/api/v1/ai/settings', { enabled: true, baseUrl: fakeAi.url, apiKeyFile: 'anthropic.key' })).status, 200);
  t.is((await admin.post(`/api/v1/patients/${id}/consents`, { purpose: 'ai_preparation', action: 'granted', textVersion: 'v1', channel: 'paper' })).status, 201);
  t.is((await admin.post(`/api/v1/patients/${id}/ai/prepare`, {})).status, 201);
  const res = await admin.get(`/api/v1/patients/${id}/export`);
  t.is(res.status, 200);
  const x = res.body;
  t.deepEqual(x.quotes[0].descriptions, ['Eingriff laut Plan']);
  t.deepEqual(x.documentEvents.map((e: { action: string; reason: string }) => [e.action, e.reason]), [['removed', 'falsch zugeordnet?'], ['restored', 'Zuordnung geprüft']]);
  // The field list comes from the schema: every table with a patient_id column (and patients).
  const cols = await ownerQuery<{ table_name: string; column_name: string }>(app.db.ownerUrl,
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
  t.false(Buffer.from(x.documents[0].contentBase64, 'base64').toString('latin1').includes(PHOTO_SECRET), 'the stored photo has no EXIF');
  t.true(x.auditTrail.some((a: { action: string }) => a.action === 'patient.create'));
  t.is(x.questionnaires[0].key, 'anamnesis');
  t.is(x.messages[0].variables.documentName, 'Befund');
  t.is(x.messages[0].blockedReason, 'channel_disabled');
  t.is(x.inboundMessages[0].content.text, 'Hallo Praxis');
  t.deepEqual(x.aftercarePlans[0].title, { de: 'OP-Nachsorge', en: 'Surgery aftercare' });
  t.is(x.aftercarePlans[0].anchorDate, '2026-06-01');
  t.deepEqual([x.aftercareSteps[0].title.de, x.aftercareSteps[0].dueDate], ['Kontrolle', '2026-06-02']);
  // Travel data, decrypted: flight, hotel stay, transfer.
  t.like(x.travelFlights[0], { direction: 'inbound', arrivalAt: '2026-05-30T11:20:00.000Z', data: { airline: 'Lufthansa', flightNumber: 'LH631', departureAirport: 'DXB', arrivalAirport: 'FRA' } });
  t.like(x.travelHotels[0], { checkIn: '2026-05-30', checkOut: '2026-06-04', data: { name: HOTEL_SECRET, address: 'Kaiserstraße 1, 60311 Frankfurt' } });
  t.like(x.travelTransfers[0], { pickupAt: '2026-05-30T12:00:00.000Z', data: { pickupPlace: 'FRA Terminal 1, Ausgang B', driverName: 'Jovan Petrović', driverPhone: '+49 170 1234567' } });
  t.like(x.aiDisclosures[0], { recipient: 'Anthropic PBC', task: 'prepare', outcome: 'success' });
  t.is(x.aiDrafts[0].data.items[0].category, 'summary');
});

test('the FHIR export is an R4 Bundle with every resource type', async (t) => {
  const { id, input } = await fullPatient(admin);
  await admin.post(`/api/v1/patients/${id}/treatments`, { performedOn: '2020-02-02', type: 'PRP', description: 'Sitzung 1' });
  const res = await admin.get(`/api/v1/patients/${id}/export?format=fhir`);
  t.is(res.status, 200);
  t.regex(res.headers.get('content-type') ?? '', /application\/fhir\+json/);
  t.is(res.body.resourceType, 'Bundle');
  t.is(res.body.type, 'collection');
  const types = res.body.entry.map((e: { resource: { resourceType: string } }) => e.resource.resourceType).sort();
  t.deepEqual([...new Set(types)], ['Appointment', 'CarePlan', 'Condition', 'Consent', 'DocumentReference', 'Patient', 'Procedure', 'QuestionnaireResponse']);
  const patient = res.body.entry[0].resource;
  t.is(patient.name[0].family, input.familyName);
  t.is(patient.birthDate, input.birthDate);
  for (const e of res.body.entry) t.is(e.fullUrl, `urn:uuid:${e.resource.id}`);
  const condition = res.body.entry.find((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Condition').resource;
  t.is(condition.code.coding[0].system, 'http://fhir.de/CodeSystem/bfarm/icd-10-gm');
  t.is(condition.subject.reference, `urn:uuid:${id}`);
});

test('a restricted record (Art. 18) is readable but every write is refused with 423', async (t) => {
  const { id } = await fullPatient(admin);
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
  const a = await fullPatient(admin);
  const b = await fullPatient(admin);
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
