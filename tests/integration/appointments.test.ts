// Appointments (issue 11, item 1) against the real server and PostgreSQL: no double booking by
// the database under concurrency, times across the DST changes of 2026, optimistic concurrency,
// statuses, tenant isolation, roles, encryption of notes, audit of reads, and the iCalendar feed.
import test from 'ava';
import { createHash } from 'node:crypto';
import { withScope } from '../../app/api/src/db/connection.ts';
import { startTestApp, setupInstance, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { clientAs, newOrganization, ownerQuery, samplePatient } from './patients-fixtures.ts';
import { berlinDay } from '../helpers/days.ts';

let app: TestApp;
let admin: Client;
let organizationId: string;
let types: { id: string; key: string; nameDe: string; nameEn: string; defaultMinutes: number }[];
let practitioner: { id: string };
let room: { id: string };
let patientId: string;

const api = '/api/v1/appointments';

async function newPatient(overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await admin.post('/api/v1/patients', { ...samplePatient(overrides), allowDuplicate: true });
  if (res.status !== 201) throw new Error(`${res.status} ${res.text}`);
  return res.body.patient.id;
}

async function newResource(kind: 'practitioner' | 'room', name: string, userId?: string) {
  const res = await admin.post(`${api}/resources`, { kind, name, ...(userId ? { userId } : {}) });
  if (res.status !== 201) throw new Error(`${res.status} ${res.text}`);
  return res.body.resource as { id: string; name: string };
}

const typeOf = (key: string) => types.find((t) => t.key === key)!;

test.before(async () => {
  app = await startTestApp();
  ({ client: admin, organizationId } = await setupInstance(app));
  types = (await admin.get(`${api}/settings`)).body.types;
  practitioner = await newResource('practitioner', 'Dr. Kalender');
  room = await newResource('room', 'Behandlungsraum 1');
  patientId = await newPatient({ givenName: 'Terminella', familyName: 'Kalendaria' });
});
test.after.always(async () => {
  await app?.stop();
  await app?.db.drop();
});

// serial: AVA runs serial tests before the concurrent ones, so no other test has added a type yet
test.serial('every organization starts with consultation, surgery and follow-up in German and English, and Europe/Berlin', async (t) => {
  const s = (await admin.get(`${api}/settings`)).body;
  t.is(s.timeZone, 'Europe/Berlin');
  t.deepEqual(s.types.map((x: { key: string; nameDe: string; nameEn: string }) => [x.key, x.nameDe, x.nameEn]), [
    ['consultation', 'Beratung', 'Consultation'], ['surgery', 'Operation', 'Surgery'], ['follow_up', 'Nachsorge', 'Follow-up'],
  ]);
  const other = await newOrganization(app, 'zweite-terminpraxis');
  const rows = await ownerQuery<{ key: string }>(app.db.ownerUrl, 'select key from appointment_types where organization_id = ? order by key', [other]);
  t.deepEqual(rows.map((r) => r.key), ['consultation', 'follow_up', 'surgery'], 'a new organization gets them too');
});

test('20 parallel bookings of one slot: exactly one 201, nineteen 409 naming the appointment that holds it', async (t) => {
  const doctor = await newResource('practitioner', 'Dr. Parallel');
  const patients = [];
  for (let i = 0; i < 20; i++) patients.push(await newPatient());
  const clients = await Promise.all(patients.map(() => clientAs(app, organizationId, ['staff'])));
  const started = Date.now();
  const results = await Promise.all(patients.map((p, i) => clients[i].post(api, { patientId: p, typeId: typeOf('consultation').id, practitionerId: doctor.id, start: '2026-05-04T09:00', durationMinutes: 30 })));
  t.log(`20 parallel bookings answered in ${Date.now() - started} ms`);
  const winners = results.filter((r) => r.status === 201);
  const losers = results.filter((r) => r.status === 409);
  t.is(winners.length, 1, results.map((r) => r.status).join(','));
  t.is(losers.length, 19);
  const id = winners[0].body.appointment.id;
  for (const l of losers) {
    t.is(l.body.error, 'double_booking');
    t.is(l.body.details.field, 'body.practitionerId');
    t.is(l.body.details.conflicting.id, id);
    t.is(l.body.details.conflicting.startsAt, '2026-05-04T07:00:00.000Z');
  }
  const rows = await ownerQuery(app.db.ownerUrl, 'select id from appointments where practitioner_id = ?', [doctor.id]);
  t.is(rows.length, 1, 'one row in the database');
});

test('an overlapping booking of a room is refused by the database; touching appointments and cancelled ones are not overlaps', async (t) => {
  const r = await newResource('room', 'OP-Saal');
  const book = (start: string, minutes: number, p = patientId) => admin.post(api, { patientId: p, typeId: typeOf('surgery').id, roomId: r.id, start, durationMinutes: minutes });
  const first = await book('2026-05-05T08:00', 120);
  t.is(first.status, 201);
  const overlap = await book('2026-05-05T09:30', 60);
  t.is(overlap.status, 409);
  t.is(overlap.body.details.field, 'body.roomId');
  t.is(overlap.body.details.conflicting.patientId, patientId, 'a caller who may read patients sees whose appointment it is');
  t.is((await book('2026-05-05T10:00', 60)).status, 201, 'starting when the other ends is fine');
  const a = first.body.appointment;
  t.is((await admin.post(`${api}/${a.id}/status`, { version: a.version, status: 'cancelled', reason: 'Patient verhindert' })).status, 200);
  t.is((await book('2026-05-05T09:30', 30)).status, 201, 'a cancelled appointment frees its slot');
  // The constraint holds below the API as well: a direct insert as the app role fails.
  const err = await withScope(app.services.db, { organizationId }, (trx) => trx('appointments').insert({
    organization_id: organizationId, patient_id: patientId, type_id: typeOf('surgery').id, room_id: r.id,
    starts_at: '2026-05-05T08:15:00Z', ends_at: '2026-05-05T08:45:00Z',
  })).then(() => undefined, (e: { code?: string }) => e);
  t.is(err?.code, '23P01');
});

test('DST 2026-03-29: 02:30 does not exist in Berlin (400), the day has 23 hours, an appointment across the gap lasts its real time', async (t) => {
  const book = (body: Record<string, unknown>) => admin.post(api, { patientId, typeId: typeOf('consultation').id, practitionerId: practitioner.id, ...body });
  const missing = await book({ start: '2026-03-29T02:30' });
  t.is(missing.status, 400);
  t.is(missing.body.details[0].field, 'body.start');
  t.is(missing.body.details[0].code, 'nonexistent_local_time');
  const across = await book({ start: '2026-03-29T01:30', end: '2026-03-29T03:30' });
  t.is(across.status, 201, across.text);
  t.is(across.body.appointment.startsAt, '2026-03-29T00:30:00.000Z');
  t.is(across.body.appointment.endsAt, '2026-03-29T01:30:00.000Z', '01:30 CET → 03:30 CEST is one hour');
  const day = (await admin.get(`${api}?from=2026-03-29&days=1&practitionerId=${practitioner.id}`)).body;
  t.deepEqual(day.days, [{ date: '2026-03-29', startsAt: '2026-03-28T23:00:00.000Z', endsAt: '2026-03-29T22:00:00.000Z', hours: 23 }]);
  t.true(day.appointments.some((a: { id: string }) => a.id === across.body.appointment.id));
  const week = (await admin.get(`${api}?from=2026-03-23&days=7`)).body;
  t.deepEqual(week.days.map((d: { hours: number }) => d.hours), [24, 24, 24, 24, 24, 24, 23]);
});

test('DST 2026-10-25: the repeated 02:30 is the first one (summer time); an explicit offset picks the second; the day has 25 hours', async (t) => {
  const book = (start: string) => admin.post(api, { patientId, typeId: typeOf('follow_up').id, practitionerId: practitioner.id, start, durationMinutes: 20 });
  const first = await book('2026-10-25T02:30');
  t.is(first.status, 201, first.text);
  t.is(first.body.appointment.startsAt, '2026-10-25T00:30:00.000Z', '02:30 CEST');
  const second = await book('2026-10-25T02:30:00+01:00');
  t.is(second.status, 201, second.text);
  t.is(second.body.appointment.startsAt, '2026-10-25T01:30:00.000Z', '02:30 CET, an hour later on the same wall clock');
  const again = await book('2026-10-25T02:30');
  t.is(again.status, 409, 'the ambiguous time resolves the same way every time');
  const day = (await admin.get(`${api}?from=2026-10-25&days=1&practitionerId=${practitioner.id}`)).body;
  t.is(day.days[0].hours, 25);
  t.is(day.days[0].startsAt, '2026-10-24T22:00:00.000Z');
  t.is(day.days[0].endsAt, '2026-10-25T23:00:00.000Z');
  t.deepEqual(day.appointments.map((a: { startsAt: string }) => a.startsAt), ['2026-10-25T00:30:00.000Z', '2026-10-25T01:30:00.000Z']);
});

test('the organization time zone: unknown zones are 400 naming the field; another zone moves local times and day bounds', async (t) => {
  for (const bad of ['Mars/Olympus_Mons', '+02:00', 'Europe/Berlin ', 'CEST']) {
    const res = await admin.request('PUT', `${api}/settings/time-zone`, { timeZone: bad });
    t.is(res.status, 400, bad);
    t.is(res.body.details[0].field, 'body.timeZone', bad);
  }
  const staff = await clientAs(app, organizationId, ['staff']);
  t.is((await staff.request('PUT', `${api}/settings/time-zone`, { timeZone: 'UTC' })).status, 403);
  const org = await newOrganization(app, 'lissabon-praxis');
  const lisbon = await clientAs(app, org, ['admin']);
  t.is((await lisbon.request('PUT', `${api}/settings/time-zone`, { timeZone: 'Europe/Lisbon' })).body.timeZone, 'Europe/Lisbon');
  const p = (await lisbon.post('/api/v1/patients', samplePatient())).body.patient.id;
  const r = (await lisbon.post(`${api}/resources`, { kind: 'room', name: 'Sala 1' })).body.resource;
  const tp = (await lisbon.get(`${api}/settings`)).body.types[0];
  const a = (await lisbon.post(api, { patientId: p, typeId: tp.id, roomId: r.id, start: '2026-07-01T09:00' })).body.appointment;
  t.is(a.startsAt, '2026-07-01T08:00:00.000Z', '09:00 WEST is 08:00 UTC');
  t.is(a.endsAt, '2026-07-01T08:30:00.000Z', 'the type\'s default duration');
  t.is((await lisbon.get(`${api}?from=2026-07-01`)).body.days[0].startsAt, '2026-06-30T23:00:00.000Z');
  const missing = await lisbon.post(api, { patientId: p, typeId: tp.id, roomId: r.id, start: '2026-03-29T01:30' });
  t.is(missing.status, 400, 'in Lisbon the skipped hour is 01:00–01:59');
});

test('bad input: zero length, end before start, unknown type or resource, wrong kind, both end and duration, no resource — 400 naming the field', async (t) => {
  const base = { patientId, typeId: typeOf('consultation').id, practitionerId: practitioner.id, start: '2026-05-06T10:00' };
  const cases: [Record<string, unknown>, string, number?][] = [
    [{ end: '2026-05-06T10:00' }, 'body.end'],
    [{ end: '2026-05-06T09:00' }, 'body.end'],
    [{ end: '2026-05-08T10:00' }, 'body.end'],
    [{ durationMinutes: 0 }, 'body.durationMinutes'],
    [{ end: '2026-05-06T11:00', durationMinutes: 30 }, 'body.durationMinutes'],
    [{ typeId: '00000000-0000-4000-8000-000000000000' }, 'body.typeId'],
    [{ practitionerId: '00000000-0000-4000-8000-000000000000' }, 'body.practitionerId'],
    [{ practitionerId: room.id }, 'body.practitionerId'],
    [{ roomId: practitioner.id }, 'body.roomId'],
    [{ practitionerId: undefined }, 'body.practitionerId'],
    [{ patientId: '00000000-0000-4000-8000-000000000000' }, 'body.patientId'],
    [{ start: '2026-02-30T10:00' }, 'body.start'],
    [{ start: 'morgen um zehn' }, 'body.start'],
    [{ start: '2026-05-06T25:00' }, 'body.start'],
    [{ notes: 'a\u0000b' }, 'body.notes'],
    [{ status: 'done' }, 'body.status'],
  ];
  for (const [change, field] of cases) {
    const res = await admin.post(api, { ...base, ...change });
    t.is(res.status, 400, `${JSON.stringify(change)}: ${res.text}`);
    t.true(res.body.details.some((d: { field: string }) => d.field === field), `${JSON.stringify(change)} names ${field}: ${res.text}`);
  }
  const nul = await admin.request('POST', api, 'null', { 'content-type': 'application/json' });
  t.is(nul.status, 400);
  t.is(nul.body.details[0].field, 'body');
  const rows = await ownerQuery(app.db.ownerUrl, "select 1 from appointments where starts_at::date = '2026-05-06'");
  t.is(rows.length, 0, 'nothing was written');
});

test('move and resize with optimistic concurrency; statuses through the day; cancel needs a reason; final states stay final', async (t) => {
  const created = (await admin.post(api, { patientId, typeId: typeOf('consultation').id, practitionerId: practitioner.id, roomId: room.id, start: '2026-05-07T10:00', notes: 'Bitte Röntgenbild mitbringen' })).body.appointment;
  t.is(created.status, 'planned');
  t.is(created.notes, 'Bitte Röntgenbild mitbringen');
  const moved = await admin.patch(`${api}/${created.id}`, { version: created.version, start: '2026-05-07T11:00' });
  t.is(moved.status, 200, moved.text);
  t.is(moved.body.appointment.startsAt, '2026-05-07T09:00:00.000Z');
  t.is(moved.body.appointment.endsAt, '2026-05-07T09:30:00.000Z', 'a move keeps the duration');
  const stale = await admin.patch(`${api}/${created.id}`, { version: created.version, start: '2026-05-07T12:00' });
  t.is(stale.status, 409);
  t.is(stale.body.error, 'stale');
  const resized = await admin.patch(`${api}/${created.id}`, { version: moved.body.appointment.version, end: '2026-05-07T11:45' });
  t.is(resized.body.appointment.endsAt, '2026-05-07T09:45:00.000Z');
  let a = resized.body.appointment;
  for (const status of ['confirmed', 'arrived', 'in_treatment', 'done']) {
    const res = await admin.post(`${api}/${a.id}/status`, { version: a.version, status });
    t.is(res.status, 200, `${status}: ${res.text}`);
    a = res.body.appointment;
    if (status === 'arrived') t.truthy(a.arrivedAt);
  }
  t.is((await admin.post(`${api}/${a.id}/status`, { version: a.version, status: 'planned' })).body.error, 'invalid_transition');
  t.is((await admin.patch(`${api}/${a.id}`, { version: a.version, start: '2026-05-07T14:00' })).status, 409, 'a done appointment is not moved');
  const other = (await admin.post(api, { patientId, typeId: typeOf('consultation').id, practitionerId: practitioner.id, start: '2026-05-07T15:00' })).body.appointment;
  const noReason = await admin.post(`${api}/${other.id}/status`, { version: other.version, status: 'cancelled' });
  t.is(noReason.status, 400);
  t.is(noReason.body.details[0].field, 'body.reason');
  const cancelled = await admin.post(`${api}/${other.id}/status`, { version: other.version, status: 'cancelled', reason: 'Fieber, verschoben' });
  t.is(cancelled.body.appointment.cancelReason, 'Fieber, verschoben');
  t.truthy(cancelled.body.appointment.cancelledAt);
  // Moving onto a booked slot is a 409 naming it, and changes nothing.
  const blocker = (await admin.post(api, { patientId, typeId: typeOf('consultation').id, practitionerId: practitioner.id, start: '2026-05-07T16:00' })).body.appointment;
  const mover = (await admin.post(api, { patientId, typeId: typeOf('consultation').id, practitionerId: practitioner.id, start: '2026-05-07T17:00' })).body.appointment;
  const clash = await admin.patch(`${api}/${mover.id}`, { version: mover.version, start: '2026-05-07T16:15' });
  t.is(clash.status, 409);
  t.is(clash.body.details.conflicting.id, blocker.id);
  t.is((await admin.get(`${api}/${mover.id}`)).body.appointment.startsAt, '2026-05-07T15:00:00.000Z');
});

test('notes and cancel reasons are stored encrypted with the patient\'s key; reads are audited', async (t) => {
  const a = (await admin.post(api, { patientId, typeId: typeOf('surgery').id, roomId: room.id, start: '2026-05-08T08:00', notes: 'Geheimnotiz-Quaxel' })).body.appointment;
  await admin.post(`${api}/${a.id}/status`, { version: a.version, status: 'cancelled', reason: 'Absagegrund-Quaxel' });
  const dump = await ownerQuery<{ t: string }>(app.db.ownerUrl, 'select row_to_json(a)::text as t from appointments a where id = ?', [a.id]);
  t.false(dump[0].t.includes('Quaxel'));
  t.false(Buffer.from(JSON.stringify(dump)).includes(Buffer.from('Quaxel')));
  // The calendar leaves cancelled appointments out: one that stays planned puts the patient in the
  // list (not only whatever the concurrent tests have booked for the patient by then).
  const shown = await admin.post(api, { patientId, typeId: typeOf('consultation').id, roomId: (await newResource('room', 'Raum Notizen')).id, start: '2026-05-08T13:00' });
  t.is(shown.status, 201, shown.text);
  await admin.get(`${api}?from=2026-05-08`);
  await admin.get(`/api/v1/patients/${patientId}/appointments`);
  await admin.get(`${api}/${a.id}`);
  await new Promise((r) => setTimeout(r, 0));
  const audit = await ownerQuery<{ action: string }>(app.db.ownerUrl,
    `select action from audit_log where (object_id = ? or details->'ids' \\? ?) and action like '%appointment%' order by id`, [patientId, patientId]);
  const actions = audit.map((x) => x.action);
  for (const action of ['appointment.create', 'appointment.status', 'appointment.list', 'patient.appointments.read', 'appointment.read']) t.true(actions.includes(action), `${action} in ${actions}`);
  const trail = (await admin.get(`/api/v1/patients/${patientId}/access-log`)).body.entries.map((e: { action: string }) => e.action);
  t.true(trail.includes('appointment.list'), 'a calendar view that showed the patient is in the patient\'s access log');
});

test('the patient\'s appointments and today\'s list (Wartezimmer) with arrivals', async (t) => {
  const p = await newPatient({ givenName: 'Wartezimmera' });
  const now = new Date();
  const start = new Date(Math.ceil(now.getTime() / 3_600_000) * 3_600_000 + 3_600_000);
  const r = await newResource('room', 'Warteraum-Test');
  const booked = await admin.post(api, { patientId: p, typeId: typeOf('consultation').id, roomId: r.id, start: start.toISOString() });
  t.is(booked.status, 201, booked.text);
  const mine = (await admin.get(`/api/v1/patients/${p}/appointments`)).body;
  t.deepEqual(mine.appointments.map((a: { id: string }) => a.id), [booked.body.appointment.id]);
  t.is(mine.appointments[0].patient.givenName, 'Wartezimmera');
  const list = (await admin.get(`${api}/today`)).body;
  t.is(list.timeZone, 'Europe/Berlin');
  // Today is the Berlin date; the booking is an hour or two ahead, so it is today unless that crosses midnight.
  t.is(list.date, berlinDay(0, now));
  t.is(list.appointments.some((a: { id: string }) => a.id === booked.body.appointment.id), berlinDay(0, start) === list.date);
  const arrived = await admin.post(`${api}/${booked.body.appointment.id}/status`, { version: 1, status: 'arrived' });
  t.is(arrived.body.appointment.status, 'arrived');
});

test('roles: finance sees no appointments; staff books but does not configure; a second organization can neither see nor book', async (t) => {
  const finance = await clientAs(app, organizationId, ['finance']);
  const staff = await clientAs(app, organizationId, ['staff']);
  t.is((await finance.get(`${api}?from=2026-05-04`)).status, 403);
  t.is((await finance.get(`/api/v1/patients/${patientId}/appointments`)).status, 403);
  t.is((await finance.post(api, { patientId, typeId: typeOf('consultation').id, roomId: room.id, start: '2026-05-09T10:00' })).status, 403);
  t.is((await staff.post(api, { patientId, typeId: typeOf('consultation').id, roomId: room.id, start: '2026-05-09T10:00' })).status, 201);
  t.is((await staff.post(`${api}/resources`, { kind: 'room', name: 'Staff-Raum' })).status, 403);
  t.is((await staff.post(`${api}/types`, { nameDe: 'X', nameEn: 'X', color: '#000000', defaultMinutes: 10 })).status, 403);

  const org = await newOrganization(app, 'fremde-terminpraxis');
  const other = await clientAs(app, org, ['admin']);
  const mine = (await admin.get(`${api}?from=2026-05-04&days=7`)).body.appointments;
  t.true(mine.length > 0);
  t.is((await other.get(`${api}?from=2026-05-04&days=7`)).body.appointments.length, 0);
  t.is((await other.get(`${api}/${mine[0].id}`)).status, 404);
  t.is((await other.patch(`${api}/${mine[0].id}`, { version: mine[0].version, start: '2026-05-04T12:00' })).status, 404);
  t.is((await other.post(`${api}/${mine[0].id}/status`, { version: mine[0].version, status: 'cancelled', reason: 'fremd' })).status, 404);
  t.is((await other.get(`/api/v1/patients/${patientId}/appointments`)).status, 404);
  const otherType = (await other.get(`${api}/settings`)).body.types[0].id;
  const otherRoom = (await other.post(`${api}/resources`, { kind: 'room', name: 'Fremdraum' })).body.resource.id;
  const intoMine = await other.post(api, { patientId, typeId: otherType, roomId: otherRoom, start: '2026-05-09T12:00' });
  t.is(intoMine.status, 400);
  t.is(intoMine.body.details[0].field, 'body.patientId');
  const myRoom = await other.post(api, { patientId: (await other.post('/api/v1/patients', samplePatient())).body.patient.id, typeId: otherType, roomId: room.id, start: '2026-05-09T12:00' });
  t.is(myRoom.status, 400);
  t.is(myRoom.body.details[0].field, 'body.roomId');
  t.false((await other.get(`${api}/settings`)).body.resources.some((r: { id: string }) => r.id === room.id));
  // Row-level security below the API: the other organization's scope sees none of these rows.
  const seen = await withScope(app.services.db, { organizationId: org }, (trx) => trx('appointments').whereIn('id', mine.map((a: { id: string }) => a.id)).select('id'));
  t.is(seen.length, 0);
});

test('iCalendar feed: opt-in secret URL with only times and "Termin"; revoked → 404; enable and revoke audited; only the practitioner or an admin', async (t) => {
  const staff = await clientAs(app, organizationId, ['doctor']);
  const own = await newResource('practitioner', 'Dr. Feed', staff.userId);
  const someoneElse = await newResource('practitioner', 'Dr. Fremdfeed');
  t.is((await staff.post(`${api}/resources/${someoneElse.id}/feed`)).status, 403, 'not another practitioner\'s feed');
  t.is((await staff.post(`${api}/resources/${room.id}/feed`)).status, 403);
  t.is((await admin.post(`${api}/resources/${room.id}/feed`)).status, 400, 'a room has no feed');
  const p = await newPatient({ givenName: 'Geheimvorname', familyName: 'Geheimnachname' });
  const booked = (await admin.post(api, { patientId: p, typeId: typeOf('surgery').id, practitionerId: own.id, roomId: room.id, start: `${berlinDay(3)}T08:00`, notes: 'Haartransplantation FUE' })).body.appointment;
  t.truthy(booked?.id);
  const enabled = await staff.post(`${api}/resources/${own.id}/feed`);
  t.is(enabled.status, 201, enabled.text);
  const url = new URL(enabled.body.url);
  t.is(url.pathname, '/ical/feed.ics');
  const token = url.searchParams.get('token')!;
  t.regex(token, /^[A-Za-z0-9_-]{43}$/);
  const feed = (u: URL | string) => fetch(app.url + (typeof u === 'string' ? u : u.pathname + u.search));
  const res = await feed(url);
  t.is(res.status, 200);
  t.regex(res.headers.get('content-type') ?? '', /^text\/calendar/);
  const body = await res.text();
  t.true(body.startsWith('BEGIN:VCALENDAR\r\nVERSION:2.0\r\n'));
  t.true(body.endsWith('END:VCALENDAR\r\n'));
  t.false(/[^\r]\n/.test(body), 'every line ends with CRLF');
  for (const line of body.split('\r\n')) t.true(Buffer.byteLength(line) <= 75, `folded: ${line}`);
  t.true(body.includes(`UID:${booked.id}@praxiskern`));
  t.true(body.includes(`DTSTART:${booked.startsAt.replace(/[-:]/g, '').replace('.000', '')}`));
  t.true(body.includes('SUMMARY:Termin'));
  for (const secret of ['Geheimvorname', 'Geheimnachname', 'Operation', 'Surgery', 'FUE', 'Behandlungsraum', p]) t.false(body.includes(secret), `no ${secret} in the feed`);
  const stored = await ownerQuery<{ h: string }>(app.db.ownerUrl, "select encode(feed_token_hash, 'hex') as h from appointment_resources where id = ?", [own.id]);
  t.is(stored[0].h, createHash('sha256').update(token).digest('hex'), 'only the hash is stored');
  t.false(JSON.stringify(await ownerQuery(app.db.ownerUrl, 'select * from audit_log')).includes(token), 'the token is not in the audit log');
  // Replacing the URL retires the old one; revoking ends the new one.
  const replaced = await staff.post(`${api}/resources/${own.id}/feed`);
  t.is((await feed(url)).status, 404);
  const second = new URL(replaced.body.url);
  t.is((await feed(second)).status, 200);
  t.is((await staff.delete(`${api}/resources/${own.id}/feed`)).status, 204);
  t.is((await feed(second)).status, 404);
  t.is((await feed('/ical/feed.ics?token=not-a-token')).status, 404);
  t.is((await feed('/ical/feed.ics')).status, 404);
  const audited = await ownerQuery<{ action: string }>(app.db.ownerUrl, "select action from audit_log where object_id = ? and action like 'appointment_feed.%' order by id", [own.id]);
  t.deepEqual(audited.map((a) => a.action), ['appointment_feed.enable', 'appointment_feed.enable', 'appointment_feed.revoke']);
});

test('admin manages types and resources: create, rename, deactivate (a deactivated type cannot be booked)', async (t) => {
  const created = await admin.post(`${api}/types`, { nameDe: 'Kontrolle', nameEn: 'Check-up', color: '#AABBCC', defaultMinutes: 15 });
  t.is(created.status, 201);
  t.is(created.body.type.color, '#aabbcc');
  const bad = await admin.post(`${api}/types`, { nameDe: 'X', nameEn: 'X', color: 'red', defaultMinutes: 0 });
  t.is(bad.status, 400);
  t.deepEqual(bad.body.details.map((d: { field: string }) => d.field).sort(), ['body.color', 'body.defaultMinutes']);
  const off = await admin.patch(`${api}/types/${created.body.type.id}`, { active: false });
  t.false(off.body.type.active);
  const res = await admin.post(api, { patientId, typeId: created.body.type.id, roomId: room.id, start: '2026-05-10T10:00' });
  t.is(res.status, 400);
  t.is(res.body.details[0].field, 'body.typeId');
  const renamed = await admin.patch(`${api}/resources/${room.id}`, { name: 'Raum Eins' });
  t.is(renamed.body.resource.name, 'Raum Eins');
  t.is((await admin.patch(`${api}/types/00000000-0000-4000-8000-000000000000`, { active: false })).status, 404);
  const user = await clientAs(app, organizationId, ['doctor']);
  t.is((await admin.post(`${api}/resources`, { kind: 'practitioner', userId: user.userId })).body.resource.name, 'Test doctor');
  t.is((await admin.post(`${api}/resources`, { kind: 'practitioner', userId: user.userId })).status, 409, 'one practitioner calendar per user');
});

test('a restricted record (Art. 18) cannot be booked or annotated (423); its appointments can still be moved and checked in', async (t) => {
  const p = await newPatient({ givenName: 'Eingeschränkta' });
  const r = await newResource('room', 'Raum Einschränkung');
  const a = (await admin.post(api, { patientId: p, typeId: typeOf('consultation').id, roomId: r.id, start: '2026-05-11T09:00' })).body.appointment;
  t.is((await admin.post(`/api/v1/patients/${p}/restriction`, { restricted: true, reason: 'Art. 18 Antrag' })).status, 200);
  t.is((await admin.post(api, { patientId: p, typeId: typeOf('consultation').id, roomId: r.id, start: '2026-05-11T11:00' })).status, 423);
  t.is((await admin.patch(`${api}/${a.id}`, { version: a.version, notes: 'neu' })).status, 423);
  const moved = await admin.patch(`${api}/${a.id}`, { version: a.version, start: '2026-05-11T10:00' });
  t.is(moved.status, 200);
  t.is((await admin.post(`${api}/${a.id}/status`, { version: moved.body.appointment.version, status: 'arrived' })).status, 200);
});

test('the Art. 15 export has the appointments with notes decrypted; erasure and anonymization leave none behind', async (t) => {
  const p = await newPatient({ givenName: 'Exportina' });
  const r = await newResource('room', 'Raum Export');
  const a = (await admin.post(api, { patientId: p, typeId: typeOf('follow_up').id, roomId: r.id, start: '2026-05-12T09:00', notes: 'Fäden ziehen' })).body.appointment;
  const x = (await admin.get(`/api/v1/patients/${p}/export`)).body;
  t.deepEqual(x.appointments.map((e: { id: string; notes: string }) => [e.id, e.notes]), [[a.id, 'Fäden ziehen']]);
  const fhir = (await admin.get(`/api/v1/patients/${p}/export?format=fhir`)).body;
  t.is(fhir.entry.find((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Appointment').resource.status, 'booked');
  await ownerQuery(app.db.ownerUrl, 'update patients set data = null, restriction_reason = null, anonymized_at = now() where id = ?', [p]);
  t.is((await ownerQuery(app.db.ownerUrl, 'select 1 from appointments where patient_id = ?', [p])).length, 0, 'anonymization removes the appointments');
  const q = await newPatient({ givenName: 'Löschbara' });
  await admin.post(api, { patientId: q, typeId: typeOf('follow_up').id, roomId: r.id, start: '2026-05-12T10:00', notes: 'weg damit' });
  const erased = await admin.post(`/api/v1/patients/${q}/erasure`, { confirm: true });
  t.is(erased.status, 200, erased.text);
  t.is((await ownerQuery(app.db.ownerUrl, 'select 1 from appointments where patient_id = ?', [q])).length, 0, 'the Art. 17 erasure removes the appointments');
});
