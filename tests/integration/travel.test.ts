// Travel data of international patients (issue 14, item 2) against the real server and PostgreSQL:
// flights, hotel stays and transfers (CRUD, audited), encrypted at rest with the patient's key,
// bad input → 400 naming the field, restriction (Art. 18) → 423, tenant isolation (RLS), roles
// (finance 403, the board without health data), the arrivals board (arranged / missing), the
// optional flight-status look-up against a local AviationStack-compatible server (off by default,
// each switch recorded in the register and audited once, at the change; only flight number, date
// and key leave), erasure removes everything.
import test from 'ava';
import { startTestApp, setupInstance, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { startFakeAviationStack, type FakeAviationStack } from '../helpers/fake-aviationstack.ts';
import { clientAs, newOrganization, ownerQuery, samplePatient } from './patients-fixtures.ts';
import { berlinDay } from '../helpers/days.ts';
import { recordedOnceAtChange, registerSwitches } from '../helpers/register-switches.ts';

let app: TestApp;
let admin: Client;
let organizationId: string;
let fake: FakeAviationStack;

test.before(async () => {
  app = await startTestApp();
  ({ client: admin, organizationId } = await setupInstance(app));
  fake = await startFakeAviationStack();
});
test.after.always(async () => {
  await fake?.close();
  await app?.stop();
  await app?.db.drop();
});


async function newPatient(client: Client = admin, overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await client.post('/api/v1/patients', samplePatient(overrides));
  if (res.status !== 201) throw new Error(res.text);
  return res.body.patient.id;
}

const flight = (day: string, over: Record<string, unknown> = {}) => ({
  direction: 'inbound', airline: 'Emirates', flightNumber: 'EK 45', departureAirport: 'DXB', departureAt: `${day}T08:15`, arrivalAirport: 'FRA', arrivalAt: `${day}T12:40`, ...over,
});
const hotel = (checkIn: string, checkOut: string, over: Record<string, unknown> = {}) => ({ name: 'Hotel Lindenblüte-Ostend', address: 'Hanauer Landstraße 9, 60314 Frankfurt', checkIn, checkOut, ...over });
const transfer = (at: string, over: Record<string, unknown> = {}) => ({ pickupAt: at, pickupPlace: 'FRA Terminal 1, Ausgang B', driverName: 'Milena Kowalczyk', driverPhone: '+49 171 2223334', ...over });

test('flights, hotel stays and transfers: create, read, replace, delete — audited and encrypted at rest', async (t) => {
  const id = await newPatient();
  const base = `/api/v1/patients/${id}/travel`;
  // A trip for a treatment plan (the plan entry of the patient).
  t.is((await admin.post(`/api/v1/patients/${id}/plans`, { title: 'FUE', steps: [] })).status, 201);
  const [plan] = await ownerQuery<{ id: string }>(app.db.ownerUrl, "select id from record_entries where patient_id = ? and kind = 'plan'", [id]);
  const f = await admin.post(`${base}/flights`, flight('2026-07-01', { planEntryId: plan.id }));
  t.is(f.status, 201, f.text);
  t.like(f.body.flight, { direction: 'inbound', airline: 'Emirates', flightNumber: 'EK45', departureAirport: 'DXB', arrivalAirport: 'FRA', planEntryId: plan.id,
    departureAt: '2026-07-01T06:15:00.000Z', arrivalAt: '2026-07-01T10:40:00.000Z', scheduledArrivalAt: '2026-07-01T10:40:00.000Z', delayMinutes: null, flightStatus: null });
  const h = await admin.post(`${base}/hotels`, hotel('2026-07-01', '2026-07-05'));
  t.is(h.status, 201, h.text);
  const x = await admin.post(`${base}/transfers`, transfer('2026-07-01T13:30:00+02:00'));
  t.is(x.status, 201, x.text);
  t.like(x.body.transfer, { pickupAt: '2026-07-01T11:30:00.000Z', destination: null, driverName: 'Milena Kowalczyk' });

  const got = await admin.get(base);
  t.is(got.status, 200);
  t.is(got.body.timeZone, 'Europe/Berlin');
  t.false(got.body.flightStatusEnabled);
  t.deepEqual([got.body.flights.length, got.body.hotels.length, got.body.transfers.length], [1, 1, 1]);
  t.like(got.body.hotels[0], { name: 'Hotel Lindenblüte-Ostend', checkIn: '2026-07-01', checkOut: '2026-07-05' });

  // Encrypted at rest: no stored byte of the travel tables holds the hotel, the driver or the flight number.
  const stored = await ownerQuery<{ t: string }>(app.db.ownerUrl,
    `select row_to_json(f)::text || encode(f.data, 'escape') as t from travel_flights f where patient_id = ?
     union all select row_to_json(h)::text || encode(h.data, 'escape') from travel_hotels h where patient_id = ?
     union all select row_to_json(x)::text || encode(x.data, 'escape') from travel_transfers x where patient_id = ?`, [id, id, id]);
  t.is(stored.length, 3);
  for (const s of ['Lindenblüte', 'Lindenbl', 'Hanauer', 'Kowalczyk', '2223334', 'EK45', 'Emirates', 'DXB', 'Terminal']) {
    t.false(stored.some((r) => r.t.includes(s)), `stored travel rows contain ${s}`);
  }

  const put = await admin.put(`${base}/hotels/${h.body.hotel.id}`, hotel('2026-07-01', '2026-07-06', { name: 'Hotel Kastanienhof' }));
  t.is(put.status, 200, put.text);
  t.is(put.body.hotel.name, 'Hotel Kastanienhof');
  t.is((await admin.put(`${base}/flights/${f.body.flight.id}`, flight('2026-07-01', { flightNumber: 'EK 47' }))).body.flight.flightNumber, 'EK47');
  t.is((await admin.put(`${base}/transfers/${x.body.transfer.id}`, transfer('2026-07-01T14:00', { destination: 'Hotel Kastanienhof' }))).body.transfer.destination, 'Hotel Kastanienhof');
  t.is((await admin.delete(`${base}/transfers/${x.body.transfer.id}`)).status, 200);
  t.is((await admin.delete(`${base}/transfers/${x.body.transfer.id}`)).status, 404);
  t.is((await admin.get(base)).body.transfers.length, 0);

  const actions = (await ownerQuery<{ action: string }>(app.db.ownerUrl, 'select action from audit_log where object_id = ? order by id', [id])).map((r) => r.action);
  for (const a of ['patient.travel.flight.create', 'patient.travel.hotel.create', 'patient.travel.transfer.create', 'patient.travel.read',
    'patient.travel.hotel.update', 'patient.travel.flight.update', 'patient.travel.transfer.update', 'patient.travel.transfer.delete']) t.true(actions.includes(a), a);
  // Another patient's item is not reachable through this patient.
  const other = await newPatient();
  t.is((await admin.put(`/api/v1/patients/${other}/travel/hotels/${h.body.hotel.id}`, hotel('2026-08-01', '2026-08-02'))).status, 404);
});

test('bad input is a 400 naming the field, never a 500', async (t) => {
  const id = await newPatient();
  const base = `/api/v1/patients/${id}/travel`;
  t.is((await admin.post(`${base}/hotels`, hotel('2026-09-10', '2026-09-14'))).status, 201);
  const cases: [string, unknown, string, string?][] = [
    ['flights', flight('2026-02-30'), 'body.departureAt', 'impossible date'],
    ['flights', flight('2026-02-28', { arrivalAt: '2026-02-30T10:00' }), 'body.arrivalAt', 'impossible arrival date'],
    ['flights', flight('2026-03-01', { arrivalAt: '2026-03-01T07:00' }), 'body.arrivalAt', 'arrival before departure'],
    ['flights', flight('2026-03-01', { arrivalAt: '2026-03-01T08:15' }), 'body.arrivalAt', 'arrival equal to departure'],
    ['flights', flight('2026-03-01', { departureAt: '2026-03-01T25:00' }), 'body.departureAt', 'hour 25'],
    ['flights', flight('2026-03-01', { flightNumber: 'LH-1234' }), 'body.flightNumber'],
    ['flights', flight('2026-03-01', { flightNumber: 'LH 123456' }), 'body.flightNumber'],
    ['flights', flight('2026-03-01', { arrivalAirport: 'FR' }), 'body.arrivalAirport'],
    ['flights', flight('2026-03-01', { departureAirport: 'FR1' }), 'body.departureAirport'],
    ['flights', flight('2026-03-01', { arrivalAirport: 'DXB' }), 'body.arrivalAirport', 'same airport'],
    ['flights', flight('2026-03-01', { direction: 'sideways' }), 'body.direction'],
    ['flights', flight('2026-03-01', { airline: 'Emi\u0000rates' }), 'body.airline', 'NUL byte'],
    ['flights', flight('2026-03-01', { planEntryId: crypto.randomUUID() }), 'body.planEntryId'],
    ['hotels', hotel('2026-09-12', '2026-09-16'), 'body.checkIn', 'overlapping stay'],
    ['hotels', hotel('2026-09-01', '2026-09-11'), 'body.checkIn', 'overlapping stay (ends inside)'],
    ['hotels', hotel('2026-09-20', '2026-09-18'), 'body.checkOut', 'check-out before check-in'],
    ['hotels', hotel('2026-09-20', '2026-09-20'), 'body.checkOut', 'check-out on the check-in day'],
    ['hotels', hotel('2026-02-30', '2026-03-02'), 'body.checkIn', 'impossible date'],
    ['hotels', hotel('2026-10-01', '2026-10-03', { name: 'Hotel\u0000X' }), 'body.name', 'NUL byte'],
    ['hotels', hotel('2026-10-01', '2026-10-03', { name: 'x'.repeat(201) }), 'body.name', 'too long'],
    ['transfers', transfer('2026-04-31T10:00'), 'body.pickupAt', 'impossible date'],
    ['transfers', transfer('2026-04-01T10:00', { driverPhone: 'call me' }), 'body.driverPhone'],
    ['transfers', transfer('2026-04-01T10:00', { driverName: '' }), 'body.driverName'],
  ];
  for (const [kind, body, field, what] of cases) {
    const res = await admin.post(`${base}/${kind}`, body);
    t.is(res.status, 400, `${kind} ${what ?? field}: ${res.text}`);
    t.is(res.body.details?.[0]?.field, field, `${kind} ${what ?? field}: ${res.text}`);
  }
  // A stay right after another (check-in on the other's check-out day) is fine.
  t.is((await admin.post(`${base}/hotels`, hotel('2026-09-14', '2026-09-16'))).status, 201);
  // JSON null body, an unknown field, an invalid id.
  for (const kind of ['flights', 'hotels', 'transfers']) {
    const res = await admin.request('POST', `${base}/${kind}`, 'null', { 'content-type': 'application/json' });
    t.is(res.status, 400, res.text);
    t.is(res.body.details?.[0]?.field, 'body');
  }
  const unknown = await admin.post(`${base}/hotels`, { ...hotel('2026-11-01', '2026-11-02'), diagnosis: 'x' });
  t.is(unknown.status, 400);
  t.is(unknown.body.details[0].field, 'body.diagnosis');
  t.is((await admin.get('/api/v1/patients/not-a-uuid/travel')).status, 400);
  const days = await admin.get('/api/v1/travel/arrivals?days=99');
  t.is(days.status, 400, days.text);
  t.is(days.body.details[0].field, 'query.days', days.text);
  t.is((await admin.put('/api/v1/travel/settings', { flightStatusEnabled: true, baseUrl: 'ftp://x.example' })).body.details[0].field, 'body.baseUrl');
  t.is((await admin.put('/api/v1/travel/settings', { flightStatusEnabled: true, baseUrl: 'https://api.example.org/v1', accessKey: 'short' })).body.details[0].field, 'body.accessKey');
  t.is((await admin.put('/api/v1/travel/settings', { flightStatusEnabled: true, baseUrl: 'https://u:p@api.example.org/v1' })).body.details[0].field, 'body.baseUrl');
  const stays = (await admin.get(base)).body.hotels;
  t.deepEqual(stays.map((s: { checkIn: string }) => s.checkIn), ['2026-09-10', '2026-09-14'], 'nothing was written by the refused requests');
});

test('a restricted record (Art. 18) keeps its travel data readable; every travel write is refused with 423', async (t) => {
  const id = await newPatient();
  const base = `/api/v1/patients/${id}/travel`;
  const h = (await admin.post(`${base}/hotels`, hotel('2026-05-01', '2026-05-03'))).body.hotel;
  const f = (await admin.post(`${base}/flights`, flight('2026-05-01'))).body.flight;
  t.is((await admin.post(`/api/v1/patients/${id}/restriction`, { restricted: true, reason: 'Richtigkeit bestritten' })).status, 200);
  t.is((await admin.get(base)).status, 200);
  for (const res of await Promise.all([
    admin.post(`${base}/flights`, flight('2026-05-02')),
    admin.put(`${base}/hotels/${h.id}`, hotel('2026-05-01', '2026-05-04')),
    admin.post(`${base}/transfers`, transfer('2026-05-01T15:00')),
    admin.delete(`${base}/flights/${f.id}`),
  ])) {
    t.is(res.status, 423, res.text);
    t.is(res.body.error, 'restricted');
  }
  t.is((await admin.get(base)).body.flights.length, 1);
});

test('roles: coordinator, staff and doctor work travel data; finance sees none of it; the board carries no health data; another organization sees nothing', async (t) => {
  const id = await newPatient();
  t.is((await admin.post(`/api/v1/patients/${id}/diagnoses`, { code: 'L64.9', text: 'Androgenetische Alopezie Geheimbefund' })).status, 201);
  const day = berlinDay(2);
  t.is((await admin.post(`/api/v1/patients/${id}/travel/flights`, flight(day))).status, 201);
  const coordinator = await clientAs(app, organizationId, ['coordinator']);
  const staff = await clientAs(app, organizationId, ['staff']);
  const doctor = await clientAs(app, organizationId, ['doctor']);
  const finance = await clientAs(app, organizationId, ['finance']);
  for (const c of [coordinator, staff, doctor]) {
    t.is((await c.get(`/api/v1/patients/${id}/travel`)).status, 200);
    t.is((await c.get('/api/v1/travel/arrivals')).status, 200);
  }
  t.is((await coordinator.post(`/api/v1/patients/${id}/travel/hotels`, hotel(day, berlinDay(5)))).status, 201);
  for (const res of [
    await finance.get(`/api/v1/patients/${id}/travel`),
    await finance.get('/api/v1/travel/arrivals'),
    await finance.post(`/api/v1/patients/${id}/travel/hotels`, hotel(berlinDay(10), berlinDay(12))),
    await finance.get('/api/v1/travel/settings'),
    await coordinator.put('/api/v1/travel/settings', { flightStatusEnabled: false }),
    await staff.get('/api/v1/travel/settings'),
  ]) t.is(res.status, 403, res.text);
  const board = await coordinator.get('/api/v1/travel/arrivals');
  const mine = board.body.arrivals.filter((a: { patientId: string }) => a.patientId === id);
  t.is(mine.length, 1);
  t.false(board.text.includes('Alopezie'), 'the board shows no diagnosis');
  t.false(board.text.includes('L64'), 'the board shows no diagnosis code');
  t.deepEqual(Object.keys(mine[0].patient).sort(), ['familyName', 'givenName']);

  // Another organization: its admin reaches neither the patient's travel data nor sees it on its board.
  const otherOrg = await newOrganization(app, `travel-other-${Date.now()}`);
  const otherAdmin = await clientAs(app, otherOrg, ['admin']);
  t.is((await otherAdmin.get(`/api/v1/patients/${id}/travel`)).status, 404);
  t.is((await otherAdmin.post(`/api/v1/patients/${id}/travel/hotels`, hotel(berlinDay(20), berlinDay(22)))).status, 404);
  t.deepEqual((await otherAdmin.get('/api/v1/travel/arrivals')).body.arrivals, []);
  // RLS itself: the app role in the other organization's scope reads no travel row.
  const { withScope } = await import('../../app/api/src/db/connection.ts');
  const seen = await withScope(app.services.db, { organizationId: otherOrg }, async (trx) =>
    [await trx('travel_flights').count('* as n').first(), await trx('travel_hotels').count('* as n').first(), await trx('travel_transfers').count('* as n').first()].map((r) => Number(r?.n)));
  t.deepEqual(seen, [0, 0, 0]);
});

test('the arrivals board: today and the next 7 days, what is arranged and what is missing', async (t) => {
  const a = await newPatient(admin, { givenName: 'Amaranta', familyName: 'Ostrowski-Brandl' });
  const b = await newPatient(admin, { givenName: 'Benedikt', familyName: 'Achterberg-Lunz' });
  const c = await newPatient(admin, { givenName: 'Cosima', familyName: 'Zellweger-Hohl' });
  const d1 = berlinDay(1);
  const d3 = berlinDay(3);
  t.is((await admin.post(`/api/v1/patients/${a}/travel/flights`, flight(d1, { flightNumber: 'LH 631' }))).status, 201);
  t.is((await admin.post(`/api/v1/patients/${a}/travel/hotels`, hotel(d1, berlinDay(4)))).status, 201);
  t.is((await admin.post(`/api/v1/patients/${b}/travel/flights`, flight(d3, { flightNumber: 'TK 1589', departureAirport: 'IST' }))).status, 201);
  t.is((await admin.post(`/api/v1/patients/${b}/travel/hotels`, hotel(d3, berlinDay(6)))).status, 201);
  t.is((await admin.post(`/api/v1/patients/${b}/travel/transfers`, transfer(`${d3}T13:15`))).status, 201);
  // Not on the board: an outbound flight, and an arrival after the 7 days.
  t.is((await admin.post(`/api/v1/patients/${c}/travel/flights`, flight(d1, { direction: 'outbound', departureAirport: 'FRA', arrivalAirport: 'DXB' }))).status, 201);
  t.is((await admin.post(`/api/v1/patients/${c}/travel/flights`, flight(berlinDay(9)))).status, 201);
  const res = await admin.get('/api/v1/travel/arrivals');
  t.is(res.status, 200, res.text);
  t.is(res.body.from, berlinDay(0));
  t.is(res.body.to, berlinDay(7));
  const rows = res.body.arrivals.filter((r: { patientId: string }) => [a, b, c].includes(r.patientId));
  t.deepEqual(rows.map((r: { flightNumber: string; missing: string[]; patient: { familyName: string } }) => [r.patient.familyName, r.flightNumber, r.missing]), [
    ['Ostrowski-Brandl', 'LH631', ['transfer']],
    ['Achterberg-Lunz', 'TK1589', []],
  ]);
  t.is(rows[1].transfer.driverName, 'Milena Kowalczyk');
  t.is(rows[0].hotel.name, 'Hotel Lindenblüte-Ostend');
  t.is((await admin.get('/api/v1/travel/arrivals?days=1')).body.arrivals.filter((r: { patientId: string }) => [a, b, c].includes(r.patientId)).length, 1);
  const [entry] = await ownerQuery<{ details: { ids: string[] } }>(app.db.ownerUrl, "select details from audit_log where action = 'travel.arrivals.list' order by id desc limit 1");
  t.true(entry.details.ids.includes(a), 'the board read is audited with the patients shown');
  // …and the board read shows in the patient's access log (list views that showed the patient).
  const log = await admin.get(`/api/v1/patients/${a}/access-log`);
  if (log.status === 200) t.true(log.body.entries.some((e: { action: string }) => e.action === 'travel.arrivals.list'));
});

test.serial('flight status (off by default): switching on is audited; a look-up sends only flight number, date and key and updates the arrival', async (t) => {
  const id = await newPatient();
  const day = berlinDay(1);
  const f = (await admin.post(`/api/v1/patients/${id}/travel/flights`, flight(day, { flightNumber: 'LH 631', departureAt: `${day}T07:00`, arrivalAt: `${day}T14:20` }))).body.flight;
  const off = await admin.post(`/api/v1/patients/${id}/travel/flights/${f.id}/status`);
  t.is(off.status, 409);
  t.is(off.body.error, 'flight_status_disabled');
  t.deepEqual((await admin.get('/api/v1/travel/settings')).body, { flightStatusEnabled: false, baseUrl: null, accessKeySet: false, enabledAt: null });
  const { dbNow, read: switches } = registerSwitches(app.db.ownerUrl, organizationId, 'aviationstack');
  const t0 = await dbNow();
  const on = await admin.put('/api/v1/travel/settings', { flightStatusEnabled: true, baseUrl: fake.url, accessKey: fake.accessKey });
  const t1 = await dbNow();
  t.is(on.status, 200, on.text);
  // Recorded and audited once, by the register, in the settings change itself (before any read of the register).
  const afterOn = await switches();
  recordedOnceAtChange(t, afterOn, t0, t1, 'aviationstack.external_service.enabled');
  t.like(afterOn.audits[0].details, { location: 'AT', thirdCountry: 'none', details: { host: new URL(fake.url).host } });
  t.is((await admin.get('/api/v1/services-register')).status, 200);
  t.deepEqual((await switches()).audits.map((a) => a.action), ['aviationstack.external_service.enabled'], 'reading the register audits nothing again');
  t.like(on.body, { flightStatusEnabled: true, baseUrl: fake.url, accessKeySet: true });
  t.false(on.text.includes(fake.accessKey), 'the key is never returned');
  const [stored] = await ownerQuery<{ t: string }>(app.db.ownerUrl, `select encode(access_key, 'escape') as t from travel_settings where organization_id = ?`, [organizationId]);
  t.false(stored.t.includes(fake.accessKey), 'the key is stored encrypted');
  const scheduled = new Date(f.arrivalAt);
  fake.flights.push({ flightIata: 'LH631', date: day, status: 'active', scheduled: scheduled.toISOString(), estimated: new Date(scheduled.getTime() + 40 * 60_000).toISOString() });
  fake.requests.length = 0;
  const res = await admin.post(`/api/v1/patients/${id}/travel/flights/${f.id}/status`);
  t.is(res.status, 200, res.text);
  t.like(res.body.flight, { delayMinutes: 40, flightStatus: 'active', arrivalAt: new Date(scheduled.getTime() + 40 * 60_000).toISOString(), scheduledArrivalAt: f.arrivalAt });
  t.is(fake.requests.length, 1);
  t.deepEqual(fake.requests[0].query, { access_key: fake.accessKey, flight_iata: 'LH631', flight_date: day });
  const board = (await admin.get('/api/v1/travel/arrivals')).body.arrivals.find((r: { flightId: string }) => r.flightId === f.id);
  t.is(board.delayMinutes, 40);
  // A flight the service does not know: a clear 422, the stored data unchanged.
  const g = (await admin.post(`/api/v1/patients/${id}/travel/flights`, flight(berlinDay(2), { flightNumber: 'XQ 9' }))).body.flight;
  const unknown = await admin.post(`/api/v1/patients/${id}/travel/flights/${g.id}/status`);
  t.is(unknown.status, 422, unknown.text);
  t.is(unknown.body.error, 'flight_status_not_found');
  t.regex(unknown.body.message, /No flight XQ9 on/);
  for (const r of fake.requests) t.false(JSON.stringify(r).includes('Quonstadt') || JSON.stringify(r).includes(id), 'no patient data leaves');
  const disable = await admin.put('/api/v1/travel/settings', { flightStatusEnabled: false });
  t.is(disable.status, 200);
  t.true(disable.body.accessKeySet, 'switching off keeps the key for later');
  const afterOff = await switches();
  t.deepEqual(afterOff.events.map((x) => x.enabled).slice(-1), [false], 'switching off is in external_service_events right after the change');
  t.deepEqual(afterOff.audits.map((a) => a.action), ['aviationstack.external_service.enabled', 'aviationstack.external_service.disabled']);
  t.truthy(afterOff.audits[1].request_id, 'written by the settings request');
  t.is((await admin.get('/api/v1/services-register')).status, 200);
  const final = await switches();
  t.deepEqual(final.audits.map((a) => a.action), ['aviationstack.external_service.enabled', 'aviationstack.external_service.disabled'], 'each switch audited exactly once');
  t.is(final.events.length, afterOff.events.length, 'a read records nothing new');
  const legacy = await ownerQuery(app.db.ownerUrl, "select 1 from audit_log where action in ('travel.external_service.enabled', 'travel.external_service.disabled')");
  t.is(legacy.length, 0, 'the travel module no longer audits the switch itself');
});

test('erasure (Art. 17) removes every travel row of the patient; anonymization drops them too', async (t) => {
  const id = await newPatient();
  const base = `/api/v1/patients/${id}/travel`;
  await admin.post(`${base}/flights`, flight('2026-03-03'));
  await admin.post(`${base}/hotels`, hotel('2026-03-03', '2026-03-05'));
  await admin.post(`${base}/transfers`, transfer('2026-03-03T13:00'));
  const count = async (pid: string) => (await ownerQuery<{ n: string }>(app.db.ownerUrl,
    'select (select count(*) from travel_flights where patient_id = $1) + (select count(*) from travel_hotels where patient_id = $1) + (select count(*) from travel_transfers where patient_id = $1) as n'.replaceAll('$1', '?'), [pid, pid, pid]))[0].n;
  t.is(Number(await count(id)), 3);
  const res = await admin.post(`/api/v1/patients/${id}/erasure`, { confirm: true });
  t.is(res.status, 200, res.text);
  t.is(Number(await count(id)), 0);
  // Every table that holds a patient_id cascades from patients (nothing of the patient survives a delete).
  const loose = await ownerQuery<{ table_name: string }>(app.db.ownerUrl, `
    select c.table_name from information_schema.columns c where c.table_schema = 'public' and c.column_name = 'patient_id' and c.table_name like 'travel_%'
      and not exists (select 1 from pg_constraint k where k.conrelid = c.table_name::regclass and k.contype = 'f' and k.confrelid = 'patients'::regclass and k.confdeltype = 'c')`);
  t.deepEqual(loose, []);
  // Anonymization after the retention period drops the travel rows (trigger).
  const other = await newPatient();
  await admin.post(`/api/v1/patients/${other}/travel/hotels`, hotel('2026-03-03', '2026-03-05'));
  await ownerQuery(app.db.ownerUrl, 'update patients set data = null, restriction_reason = null, anonymized_at = now() where id = ?', [other]);
  t.is(Number(await count(other)), 0);
});

test.serial('the external-services register entry follows the switch (off by default, since when on)', async (t) => {
  // Read through the live register of external services, as the organization's admin sees it.
  const describe = async () => {
    const res = await admin.get('/api/v1/services-register');
    if (res.status !== 200) throw new Error(res.text);
    return res.body.entries.find((x: { key: string }) => x.key === 'aviationstack');
  };
  t.like(await describe(), { key: 'aviationstack', enabled: false, thirdCountry: 'none', location: 'AT', dataCategoryCodes: ['flight_number', 'flight_date'] });
  t.is((await admin.put('/api/v1/travel/settings', { flightStatusEnabled: true, baseUrl: fake.url, accessKey: fake.accessKey })).status, 200);
  const on = await describe();
  t.true(on.enabled);
  t.truthy(on.since);
  t.is(on.details?.host, new URL(fake.url).host);
  t.false(JSON.stringify(on).includes(fake.accessKey));
  t.is((await admin.put('/api/v1/travel/settings', { flightStatusEnabled: false })).status, 200);
  t.false((await describe()).enabled);
});
