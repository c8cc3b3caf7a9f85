// The Karteikarte's timeline (issue 12, item 2) against the real server and PostgreSQL: every
// module's lines merged newest first, filters by type, stable paging, each provider behind its own
// permission (finance sees no health data, a role without appointments.read no appointments, one without inbox.read not what the patient wrote),
// audited like the record, 404 across organizations (RLS), bad input → 400 naming the field.
import test from 'ava';
import { startTestApp, setupInstance, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { clientAs, jpegWithMetadata, multipart, newOrganization, ownerQuery, samplePatient, storeInbound } from './patients-fixtures.ts';
import { ROLE_PERMISSIONS } from '../../app/api/src/core/permissions.ts';

let app: TestApp;
let admin: Client;
let organizationId: string;
let patientId: string;
const tl = (id: string, q = '') => `/api/v1/patients/${id}/timeline${q}`;

async function ok(res: { status: number; text: string; body: any }, status = 201) {
  if (res.status !== status) throw new Error(`${res.status} ${res.text}`);
  return res.body;
}

test.before(async () => {
  app = await startTestApp();
  ({ client: admin, organizationId } = await setupInstance(app));
  patientId = (await ok(await admin.post('/api/v1/patients', samplePatient({ givenName: 'Karteia', familyName: 'Zeitleistner' })))).patient.id;
  const p = `/api/v1/patients/${patientId}`;
  await ok(await admin.post(`${p}/anamnesis`, { answers: { smoker: false, blood_thinners: true, blood_thinner_name: 'ASS 100', allergies: ['Penicillin'], hair_status: 'norwood_3' } }));
  const dx = (await ok(await admin.post(`${p}/diagnoses`, { code: 'l64.9', text: 'Androgenetische Alopezie', certainty: 'V' }))).entry;
  await ok(await admin.post(`${p}/diagnoses`, { code: 'L64.9', text: 'Androgenetische Alopezie, gesichert', certainty: 'G', supersedesId: dx.id, correctionReason: 'Befund bestätigt' }));
  await ok(await admin.post(`${p}/treatments`, { performedOn: '2026-11-02', type: 'PRP', description: 'Erste Sitzung' }));
  const plan = (await ok(await admin.post(`${p}/plans`, { title: 'FUE-Eingriff', status: 'proposed' }))).entry;
  const template = (await ok(await admin.post('/api/v1/aftercare/templates', { nameDe: 'OP-Nachsorge', nameEn: 'Surgery aftercare', steps: [{ dayOffset: 7, titleDe: 'Fäden ziehen', titleEn: 'Stitches out', sendMessage: false, bookAppointment: true }] }))).template;
  await ok(await admin.post(`${p}/aftercare`, { templateId: template.id, planEntryId: plan.id, anchorDate: '2026-11-10' }));
  await ok(await admin.post(`${p}/notes`, { category: 'finding', text: 'Kopfhaut reizlos' }));
  await ok(await admin.post(`${p}/consents`, { purpose: 'email_contact', action: 'granted', textVersion: 'v1', channel: 'paper' }));
  const photo = multipart({ category: 'front', note: 'Frontal' }, { filename: 'front.jpg', data: jpegWithMetadata('x') });
  await ok(await admin.request('POST', `${p}/documents`, photo.body, { 'content-type': photo.contentType }));
  const settings = (await admin.get('/api/v1/appointments/settings')).body;
  const room = (await ok(await admin.post('/api/v1/appointments/resources', { kind: 'room', name: 'Raum Zeitleiste' }))).resource;
  await ok(await admin.post('/api/v1/appointments', { patientId, typeId: settings.types[0].id, roomId: room.id, start: '2026-11-20T10:00', notes: 'Bitte nüchtern' }));
  await ok(await admin.post(`${p}/messages`, { purpose: 'appointment_reminder', channel: 'email' }));
  // What the patient wrote over WhatsApp, stored encrypted as the webhook processor stores it: a text and a photo with a caption.
  await storeInbound(app, organizationId, patientId, 'text', { type: 'text', text: 'Kann ich den Termin verschieben?', media: null });
  await storeInbound(app, organizationId, patientId, 'image', { type: 'image', text: null, media: { id: 'wamid-media-1', mimeType: 'image/jpeg', caption: 'So sieht es heute aus' } });
});
test.after.always(async () => {
  await app?.stop();
  await app?.db.drop();
});

test('the timeline merges every module newest first, marks corrections, and decrypts the lines', async (t) => {
  const body = await ok(await admin.get(tl(patientId)), 200);
  const types = body.items.map((i: { type: string }) => i.type);
  for (const k of ['anamnesis', 'diagnosis', 'treatment', 'plan', 'note', 'consent', 'document', 'appointment', 'message', 'message_in', 'aftercare']) t.true(types.includes(k), k);
  const times = body.items.map((i: { at: string }) => Date.parse(i.at));
  t.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first');
  const dx = body.items.filter((i: { type: string }) => i.type === 'diagnosis');
  t.is(dx.length, 2);
  t.like(dx[0], { code: 'L64.9', status: 'G', correction: true, superseded: false, text: 'Androgenetische Alopezie, gesichert' });
  t.like(dx[1], { status: 'V', superseded: true, correction: false });
  t.like(body.items.find((i: { type: string }) => i.type === 'note'), { code: 'finding', text: 'Kopfhaut reizlos' });
  t.like(body.items.find((i: { type: string }) => i.type === 'appointment'), { detail: 'Bitte nüchtern', status: 'planned' });
  t.like(body.items.find((i: { type: string }) => i.type === 'document'), { code: 'front', text: 'front.jpg', detail: 'Frontal' });
  t.like(body.items.find((i: { type: string }) => i.type === 'anamnesis'), { status: 'needs_review' });
  t.like(body.items.find((i: { type: string }) => i.type === 'aftercare'), { day: '2026-11-17', status: 'open', label: { de: 'Fäden ziehen', en: 'Stitches out' } });
  // the patient's own messages, decrypted: the text, and a photo's caption (the photo stays in the inbox)
  t.deepEqual(body.items.filter((i: { type: string }) => i.type === 'message_in').map((i: { code: string; text: string }) => [i.code, i.text]),
    [['image', 'So sieht es heute aus'], ['text', 'Kann ich den Termin verschieben?']]);
  t.is(body.nextBefore, null);
  t.true(body.types.includes('aftercare'), 'the admin may filter by every type');
});

test('filters by type and pages with a stable cursor (no line lost or repeated)', async (t) => {
  const only = await ok(await admin.get(tl(patientId, '?types=diagnosis,note')), 200);
  t.deepEqual([...new Set(only.items.map((i: { type: string }) => i.type))].sort(), ['diagnosis', 'note']);
  const all = (await ok(await admin.get(tl(patientId, '?limit=200')), 200)).items.map((i: { id: string }) => i.id);
  const seen: string[] = [];
  let before: string | null = null;
  for (let i = 0; i < 20; i++) {
    const page: { items: { id: string }[]; nextBefore: string | null } = await ok(await admin.get(tl(patientId, `?limit=3${before ? `&before=${encodeURIComponent(before)}` : ''}`)), 200);
    t.true(page.items.length <= 3);
    seen.push(...page.items.map((x) => x.id));
    before = page.nextBefore;
    if (!before) break;
  }
  t.deepEqual(seen, all);
});

test('each provider answers only to its permission: finance sees no health data, a role without appointments.read no appointments', async (t) => {
  const finance = await clientAs(app, organizationId, ['finance']);
  const f = await ok(await finance.get(tl(patientId)), 200);
  t.deepEqual(f.types, ['consent']);
  t.deepEqual([...new Set(f.items.map((i: { type: string }) => i.type))], ['consent']);
  t.is((await finance.get(tl(patientId, '?types=diagnosis'))).body.items.length, 0, 'asking for health types gives nothing');
  const staff = await ok(await (await clientAs(app, organizationId, ['staff'])).get(tl(patientId)), 200);
  t.true(staff.items.some((i: { type: string }) => i.type === 'appointment'));
  // A role without appointments.read (nor messaging): the provider is not asked.
  const saved = ROLE_PERMISSIONS.staff;
  t.true(staff.items.some((i: { type: string }) => i.type === 'message_in'), 'staff work the inbox: they see what the patient wrote');
  (ROLE_PERMISSIONS as Record<string, readonly string[]>).staff = saved.filter((p) => p !== 'appointments.read' && p !== 'messaging.send' && p !== 'inbox.read');
  try {
    const limited = await ok(await (await clientAs(app, organizationId, ['staff'])).get(tl(patientId)), 200);
    t.false(limited.types.includes('appointment'));
    t.false(limited.types.includes('message_in'));
    t.false(limited.items.some((i: { type: string }) => i.type === 'appointment' || i.type === 'message' || i.type === 'message_in'));
    t.true(limited.items.some((i: { type: string }) => i.type === 'diagnosis'));
  } finally {
    (ROLE_PERMISSIONS as Record<string, readonly string[]>).staff = saved;
  }
  t.is((await (await clientAs(app, organizationId, ['platform_owner'])).get(tl(patientId))).status, 403);
});

test('reading the timeline is audited like reading the record (types and count, no content)', async (t) => {
  await ok(await admin.get(tl(patientId, '?types=note')), 200);
  const rows = await ownerQuery<{ action: string; details: Record<string, unknown> }>(app.db.ownerUrl,
    `select action, details from audit_log where object_id = ? and action = 'health_record.read' and details->'types' = '["note"]'::jsonb order by id desc limit 1`, [patientId]);
  t.is(rows.length, 1);
  t.deepEqual(rows[0].details, { part: 'timeline', types: ['note'], count: 1 });
});

test('another organization\'s patient is 404 (RLS), bad query input is a 400 naming the field', async (t) => {
  const other = await newOrganization(app, 'zweite-karteipraxis');
  const foreign = await clientAs(app, other, ['admin']);
  t.is((await foreign.get(tl(patientId))).status, 404);
  for (const [q, field] of [['?types=diagnosis,bogus', 'query.types'], ['?limit=0', 'query.limit'], ['?limit=9999', 'query.limit'], ['?before=yesterday', 'query.before'], ['?before=%00', 'query.before'], ['?extra=1', 'query']] as const) {
    const res = await admin.get(tl(patientId, q));
    t.is(res.status, 400, q);
    t.true(res.body.details.some((d: { field: string }) => d.field.startsWith(field)), `${q}: ${JSON.stringify(res.body.details)}`);
  }
  t.is((await admin.get(tl('not-a-uuid'))).status, 400);
});

test('a quick-entry note is part of the Art. 15/20 export (JSON and FHIR Observation)', async (t) => {
  const json = await ok(await admin.get(`/api/v1/patients/${patientId}/export?format=json`), 200);
  const note = json.recordEntries.find((e: { kind: string }) => e.kind === 'note');
  t.like(note?.data, { category: 'finding', text: 'Kopfhaut reizlos' });
  const fhir = await ok(await admin.get(`/api/v1/patients/${patientId}/export?format=fhir`), 200);
  const obs = fhir.entry.map((e: { resource: Record<string, unknown> }) => e.resource).find((r: Record<string, unknown>) => r.resourceType === 'Observation');
  t.like(obs, { valueString: 'Kopfhaut reizlos', code: { coding: [{ code: 'finding' }] } });
});
