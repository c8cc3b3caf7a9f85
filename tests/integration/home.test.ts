// GET /home (issue 12, item 6): one request answers the start page; each panel only for roles
// holding its permission. Recently opened patients come from the caller's own audit trail (names
// resolved at read, erased patients gone, the listing audited); counts for today, inbox, tasks;
// backup and update health only for installation operators.
import test from 'ava';
import { useSetUpApp, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { clientAs, ownerQuery, samplePatient } from './patients-fixtures.ts';
import { nextCronRun } from '../../app/api/src/modules/home/home.service.ts';

let app: TestApp;
let admin: Client;
let organizationId: string;

useSetUpApp(test, (env) => ({ app, admin, organizationId } = env));

const berlinToday = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());

test.serial('each role sees only the panels its permissions allow', async (t) => {
  const staff = await clientAs(app, organizationId, ['staff']);
  const finance = await clientAs(app, organizationId, ['finance']);
  const coordinator = await clientAs(app, organizationId, ['coordinator']);
  const panels = async (c: Client) => {
    const res = await c.get('/api/v1/home');
    t.is(res.status, 200, res.text);
    return Object.entries(res.body).filter(([, v]) => v !== null).map(([k]) => k).sort();
  };
  t.deepEqual(await panels(admin), ['backup', 'inbox', 'recentPatients', 'tasks', 'today', 'updates'], 'the first admin is also the installation operator');
  t.deepEqual(await panels(staff), ['inbox', 'recentPatients', 'tasks', 'today']);
  t.deepEqual(await panels(coordinator), ['inbox', 'recentPatients', 'tasks', 'today']);
  t.deepEqual(await panels(finance), ['recentPatients'], 'finance: master data only, no appointments, inbox or tasks');
  const staffTasks = (await staff.get('/api/v1/home')).body.tasks;
  t.is(staffTasks.restrictedRecords, null, 'staff may not restrict processing, so no count of restricted records');
  t.is(typeof staffTasks.aftercareToBook, 'number');
  t.is((await app.client().get('/api/v1/home')).status, 401);
});

test.serial('recently opened patients: the caller\'s own, newest first, without erased ones; the listing is audited', async (t) => {
  const staff = await clientAs(app, organizationId, ['staff']);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await admin.post('/api/v1/patients', samplePatient({ patientNumber: `H-${i}` }))).body.patient.id);
  for (const id of [ids[0], ids[1], ids[2], ids[0]]) t.is((await staff.get(`/api/v1/patients/${id}`)).status, 200);
  const recent = (await staff.get('/api/v1/home')).body.recentPatients;
  t.deepEqual(recent.map((p: { id: string }) => p.id), [ids[0], ids[2], ids[1]]);
  t.like(recent[0], { patientNumber: 'H-0' });
  t.truthy(recent[0].familyName);
  t.false('phone' in recent[0], 'names, birth date and number only');
  t.deepEqual((await admin.get('/api/v1/home')).body.recentPatients.map((p: { id: string }) => p.id).filter((id: string) => ids.includes(id)), [], 'another user\'s openings are not mine');

  t.is((await admin.post(`/api/v1/patients/${ids[2]}/erasure`, { confirm: true })).status, 200);
  const after = (await staff.get('/api/v1/home')).body.recentPatients;
  t.deepEqual(after.map((p: { id: string }) => p.id), [ids[0], ids[1]], 'an erased patient is gone');
  const audits = await ownerQuery<{ details: { source: string; ids: string[] } }>(app.db.ownerUrl,
    `select details from audit_log where action = 'patient.list' and actor_user_id = ? and details->>'source' = 'home_recent' order by id`, [staff.userId]);
  t.is(audits.length, 2);
  t.deepEqual(audits[1].details.ids, [ids[0], ids[1]]);
});

test.serial('today: appointments and arrivals; tasks: restricted records', async (t) => {
  const patient = (await admin.post('/api/v1/patients', samplePatient())).body.patient.id;
  const settings = (await admin.get('/api/v1/appointments/settings')).body;
  const type = settings.types[0].id;
  const room = (await admin.post('/api/v1/appointments/resources', { kind: 'room', name: 'Raum 1' })).body;
  const roomId = room.resource?.id ?? room.id;
  const day = berlinToday();
  const a = await admin.post('/api/v1/appointments', { patientId: patient, typeId: type, roomId, start: `${day}T00:05`, durationMinutes: 20 });
  t.is(a.status, 201, a.text);
  const b = await admin.post('/api/v1/appointments', { patientId: patient, typeId: type, roomId, start: `${day}T00:30`, durationMinutes: 20 });
  t.is(b.status, 201, b.text);
  const arrived = await admin.post(`/api/v1/appointments/${a.body.appointment.id}/status`, { status: 'arrived', version: a.body.appointment.version });
  t.is(arrived.status, 200, arrived.text);
  const home = (await admin.get('/api/v1/home')).body;
  t.like(home.today, { date: day, total: 2, arrived: 1, waiting: 1, cancelled: 0 });
  const before = home.tasks.restrictedRecords;
  t.is((await admin.post(`/api/v1/patients/${patient}/restriction`, { restricted: true, reason: 'Richtigkeit bestritten' })).status, 200);
  t.is((await admin.get('/api/v1/home')).body.tasks.restrictedRecords, before + 1);
});

test.serial('backup and updates: configured state, next scheduled run; the next run of a cron expression', async (t) => {
  const home = (await admin.get('/api/v1/home')).body;
  t.is(typeof home.backup.configured, 'boolean');
  t.is(home.updates.runningVersion.length > 0, true);
  const from = new Date(2026, 11, 1, 21, 15); // local time, like node-cron
  t.deepEqual(nextCronRun('30 2 * * *', from), new Date(2026, 11, 2, 2, 30));
  t.deepEqual(nextCronRun('0 3 * * 0', from), new Date(2026, 11, 6, 3, 0), 'Sunday');
  t.deepEqual(nextCronRun('*/15 * * * *', from), new Date(2026, 11, 1, 21, 30));
  t.is(nextCronRun('not a cron'), null);
  // No next run is promised while no backup target exists (the panel says so instead).
  t.is(home.backup.nextRunAt === null, !(home.backup.configured && home.backup.schedule));
});
