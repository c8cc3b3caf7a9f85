// Appointment messages through the outbox (issue 11, item 1) against real parts on loopback: the
// fake WhatsApp Cloud API and a real SMTP server. Booking queues a confirmation and the reminders
// in the same transaction; reminders land at the right UTC instant across the DST change, follow a
// moved appointment, are cancelled with it, are not written when their time has passed, and are
// blocked with the reason by an objection or a restriction. Channel per patient: WhatsApp when
// consented, else e-mail. Offsets per appointment type; bad offsets are a 400 naming the field.
import test from 'ava';
import { enableChannels, newPatient, startMessagingEnv, waitFor, type MessagingEnv } from './messaging-fixtures.ts';
import { addDays, berlinDay, lastSunday } from '../helpers/days.ts';

let env: MessagingEnv;
let types: { id: string; key: string; reminderOffsetsMinutes: number[] }[];
const api = '/api/v1/appointments';
const typeOf = (key: string) => types.find((t) => t.key === key)!;
/** Next calendar year (Berlin): fixed dates in it are in the future whenever the test runs. */
const Y = Number(berlinDay().slice(0, 4)) + 1;

interface OutboxRow { id: string; purpose: string; channel: string; status: string; blocked_reason: string | null; dedup_key: string; send_at: Date }
/** The messages of an appointment; those of one booking share created_at (one transaction), so purpose orders them. */
const outboxOf = (appointmentId: string): Promise<OutboxRow[]> =>
  env.owner('outbox_messages').where('dedup_key', 'like', `appointment:${appointmentId}:%`).orderBy(['created_at', 'purpose', 'send_at']).select('id', 'purpose', 'channel', 'status', 'blocked_reason', 'dedup_key', 'send_at');
const requestsFor = (id: string) => env.fake.requests.filter((r) => r.body.biz_opaque_callback_data === id);

test.before(async () => {
  env = await startMessagingEnv();
  await enableChannels(env.admin);
  for (const purpose of ['appointment_confirmation', 'appointment_reminder', 'appointment_change', 'appointment_cancellation']) {
    const r = await env.admin.put('/api/v1/messaging/templates', { purpose, language: 'de',
      body: `${purpose}: {{appointmentDate}} {{appointmentTime}}`,
      whatsappTemplate: { name: purpose, languageCode: 'de', parameters: ['appointmentDate', 'appointmentTime'] },
    });
    if (r.status !== 200) throw new Error(r.text);
  }
  types = (await env.admin.get(`${api}/settings`)).body.types;
});
test.after.always(async () => {
  await env?.stop();
});

let doctors = 0;
/** Each booking with its own practitioner: the tests are about messages, not about free slots. */
async function book(patientId: string, start: string, typeKey = 'consultation', durationMinutes = 20) {
  const doctor = await env.admin.post(`${api}/resources`, { kind: 'practitioner', name: `Dr. Erinnerung ${++doctors}` });
  if (doctor.status !== 201) throw new Error(doctor.text);
  const res = await env.admin.post(api, { patientId, typeId: typeOf(typeKey).id, practitionerId: doctor.body.resource.id, start, durationMinutes });
  if (res.status !== 201) throw new Error(`${res.status} ${res.text}`);
  return res.body.appointment as { id: string; version: number; startsAt: string };
}

/** An ISO instant `ms` from now, on a whole second (the API takes local or UTC times). */
const fromNow = (ms: number) => new Date(Math.ceil((Date.now() + ms) / 1000) * 1000).toISOString();

test.serial('every type starts with one reminder 24 h before; offsets are set per type and bad ones are a 400 naming the field', async (t) => {
  t.true(types.every((x) => x.reminderOffsetsMinutes.length === 1 && x.reminderOffsetsMinutes[0] === 1440));
  const surgery = typeOf('surgery');
  const ok = await env.admin.patch(`${api}/types/${surgery.id}`, { reminderOffsetsMinutes: [120, 1440] });
  t.is(ok.status, 200, ok.text);
  t.deepEqual(ok.body.type.reminderOffsetsMinutes, [1440, 120]);
  for (const [value, field] of [[[5], 'body.reminderOffsetsMinutes.0'], [[60, 60], 'body.reminderOffsetsMinutes'], [[60, 120, 180, 240], 'body.reminderOffsetsMinutes'], ['24h', 'body.reminderOffsetsMinutes'], [[30000], 'body.reminderOffsetsMinutes.0']] as const) {
    const bad = await env.admin.patch(`${api}/types/${surgery.id}`, { reminderOffsetsMinutes: value });
    t.is(bad.status, 400, JSON.stringify(value));
    t.true(JSON.stringify(bad.body).includes(field), `${JSON.stringify(value)} → ${bad.text}`);
  }
  t.deepEqual((await env.admin.get(`${api}/settings`)).body.types.find((x: { id: string }) => x.id === surgery.id).reminderOffsetsMinutes, [1440, 120], 'nothing half-changed');
  const created = await env.admin.post(`${api}/types`, { nameDe: 'Kontrolle', nameEn: 'Check-up', color: '#336699', defaultMinutes: 15, reminderOffsetsMinutes: [] });
  t.is(created.status, 201, created.text);
  t.deepEqual(created.body.type.reminderOffsetsMinutes, []);
});

test.serial('booking: the confirmation is queued in the same transaction and reaches WhatsApp; a short-offset reminder goes out at its time', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const followUp = typeOf('follow_up');
  t.is((await env.admin.patch(`${api}/types/${followUp.id}`, { reminderOffsetsMinutes: [15] })).status, 200);
  const a = await book(p.id, fromNow(15 * 60_000 + 4000), 'follow_up');
  const rows = await outboxOf(a.id);
  t.deepEqual(rows.map((r) => [r.purpose, r.channel, r.status]), [['appointment_confirmation', 'whatsapp', 'queued'], ['appointment_reminder', 'whatsapp', 'queued']]);
  const reminder = rows[1];
  t.is(reminder.dedup_key, `appointment:${a.id}:reminder:15m`);
  t.is(reminder.send_at.getTime(), new Date(a.startsAt).getTime() - 15 * 60_000);
  const [confirmation] = await waitFor('confirmation sent', () => requestsFor(rows[0].id).length ? requestsFor(rows[0].id) : undefined);
  t.is(confirmation.body.template.name, 'appointment_confirmation');
  const local = new Intl.DateTimeFormat('de-DE', { timeZone: 'Europe/Berlin', day: '2-digit', month: '2-digit', year: 'numeric' }).format(new Date(a.startsAt));
  t.is(confirmation.body.template.components[0].parameters[0].text, local, 'the date as the patient reads it, in the organization\'s zone');
  const started = Date.now();
  const [sent] = await waitFor('reminder sent', () => requestsFor(reminder.id).length ? requestsFor(reminder.id) : undefined);
  t.log(`reminder reached the fake WhatsApp ${Date.now() - started} ms after the confirmation, ${sent.at - reminder.send_at.getTime()} ms after its due time`);
  t.true(sent.at >= reminder.send_at.getTime(), 'not before its time');
  t.is(sent.body.template.name, 'appointment_reminder');
  t.is(sent.body.to, p.whatsapp.replace('+', ''));
  await waitFor('recorded', async () => (await outboxOf(a.id)).every((r) => r.status === 'sent'));
  t.is((await env.admin.patch(`${api}/types/${followUp.id}`, { reminderOffsetsMinutes: [1440] })).status, 200);
});

test.serial('DST: a reminder 24 h before lands on the right UTC instant (autumn and spring change)', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  // Next year's changes (always ahead, whenever the test runs): summer time ends on the last
  // Sunday of October and begins on the last Sunday of March; the appointments are on the Monday after.
  const autumnSunday = lastSunday(Y, 10);
  const autumn = await book(p.id, `${addDays(autumnSunday, 1)}T09:00`);
  t.is(autumn.startsAt, `${addDays(autumnSunday, 1)}T08:00:00.000Z`);
  const [, r1] = await outboxOf(autumn.id);
  t.is(r1.send_at.toISOString(), `${autumnSunday}T08:00:00.000Z`, `${autumnSunday} 09:00 CET, the day summer time ends`);
  const springSunday = lastSunday(Y, 3);
  const spring = await book(p.id, `${addDays(springSunday, 1)}T09:00`);
  t.is(spring.startsAt, `${addDays(springSunday, 1)}T07:00:00.000Z`);
  const [, r2] = await outboxOf(spring.id);
  t.is(r2.send_at.toISOString(), `${springSunday}T07:00:00.000Z`, `${springSunday} 09:00 CEST, the day summer time begins`);
  // two reminders (24 h and 2 h) for a surgery in the night of the change: elapsed time, not wall clock
  const night = await book(p.id, `${autumnSunday}T03:30`, 'surgery', 60);
  t.is(night.startsAt, `${autumnSunday}T02:30:00.000Z`);
  const rs = (await outboxOf(night.id)).filter((r) => r.purpose === 'appointment_reminder').map((r) => [r.dedup_key.split(':').pop(), r.send_at.toISOString()]);
  t.deepEqual(rs.sort(), [['120m', `${autumnSunday}T00:30:00.000Z`], ['1440m', `${addDays(autumnSunday, -1)}T02:30:00.000Z`]]);
});

test.serial('a reminder whose time has passed at booking is not written; the confirmation is', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const a = await book(p.id, fromNow(3 * 3600_000));
  t.deepEqual((await outboxOf(a.id)).map((r) => r.purpose), ['appointment_confirmation']);
});

test.serial('move: the reminder follows (same message, new time), a change message goes out; a type change takes its offsets', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const a = await book(p.id, `${Y}-05-10T10:00`);
  const [, before] = await outboxOf(a.id);
  const moved = await env.admin.patch(`${api}/${a.id}`, { version: a.version, start: `${Y}-05-12T15:30` });
  t.is(moved.status, 200, moved.text);
  const rows = await outboxOf(a.id);
  const reminders = rows.filter((r) => r.purpose === 'appointment_reminder' && r.status === 'queued');
  t.is(reminders.length, 1);
  t.is(reminders[0].id, before.id, 'the same outbox message, moved');
  t.is(reminders[0].send_at.toISOString(), `${Y}-05-11T13:30:00.000Z`);
  const change = rows.find((r) => r.purpose === 'appointment_change')!;
  t.is(change.dedup_key, `appointment:${a.id}:change:v2`);
  const [req] = await waitFor('change sent', () => requestsFor(change.id).length ? requestsFor(change.id) : undefined);
  t.deepEqual(req.body.template.components[0].parameters.map((x: { text: string }) => x.text), [`12.05.${Y}`, '15:30']);
  // surgery has 24 h and 2 h: a type change without a move adds the 2 h reminder, no change message
  const retyped = await env.admin.patch(`${api}/${a.id}`, { version: moved.body.appointment.version, typeId: typeOf('surgery').id });
  t.is(retyped.status, 200, retyped.text);
  const after = await outboxOf(a.id);
  t.deepEqual(after.filter((r) => r.purpose === 'appointment_reminder' && r.status === 'queued').map((r) => r.send_at.toISOString()).sort(), [`${Y}-05-11T13:30:00.000Z`, `${Y}-05-12T11:30:00.000Z`]);
  t.is(after.filter((r) => r.purpose === 'appointment_change').length, 1);
});

test.serial('cancel: queued reminders are cancelled and never sent; the patient gets the cancellation; no-show cancels reminders silently', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const followUp = typeOf('follow_up');
  t.is((await env.admin.patch(`${api}/types/${followUp.id}`, { reminderOffsetsMinutes: [15] })).status, 200);
  const a = await book(p.id, fromNow(15 * 60_000 + 3000), 'follow_up');
  const res = await env.admin.post(`${api}/${a.id}/status`, { version: a.version, status: 'cancelled', reason: 'Patient verhindert' });
  t.is(res.status, 200, res.text);
  const rows = await outboxOf(a.id);
  const reminder = rows.find((r) => r.purpose === 'appointment_reminder')!;
  t.is(reminder.status, 'cancelled');
  const cancellation = rows.find((r) => r.purpose === 'appointment_cancellation')!;
  t.truthy(cancellation);
  await waitFor('cancellation sent', () => requestsFor(cancellation.id).length > 0);
  // a later message, due after the cancelled reminder would have been: once it is sent, the
  // worker has passed the reminder's time, and the reminder did not go out
  const p2 = await newPatient(env.admin, ['whatsapp_contact']);
  const probe = await book(p2.id, fromNow(15 * 60_000 + 4500), 'follow_up');
  const probeReminder = (await outboxOf(probe.id)).find((r) => r.purpose === 'appointment_reminder')!;
  t.true(probeReminder.send_at.getTime() > reminder.send_at.getTime());
  await waitFor('probe reminder sent', () => requestsFor(probeReminder.id).length > 0);
  t.is(requestsFor(reminder.id).length, 0, 'the cancelled reminder never reached WhatsApp');
  t.is((await env.owner('outbox_messages').where({ id: reminder.id }).first()).status, 'cancelled');
  t.is((await env.admin.patch(`${api}/types/${followUp.id}`, { reminderOffsetsMinutes: [1440] })).status, 200);

  const b = await book(p.id, `${Y}-06-01T08:00`);
  const ns = await env.admin.post(`${api}/${b.id}/status`, { version: b.version, status: 'no_show' });
  t.is(ns.status, 200, ns.text);
  const nsRows = await outboxOf(b.id);
  t.is(nsRows.find((r) => r.purpose === 'appointment_reminder')!.status, 'cancelled');
  t.deepEqual(nsRows.map((r) => r.purpose).sort(), ['appointment_confirmation', 'appointment_reminder']);
  // planned again: the reminder is queued again (a new message; the cancelled one stays as it was)
  const again = await env.admin.post(`${api}/${b.id}/status`, { version: ns.body.appointment.version, status: 'planned' });
  t.is(again.status, 200, again.text);
  const againRows = (await outboxOf(b.id)).filter((r) => r.purpose === 'appointment_reminder');
  t.deepEqual(againRows.map((r) => r.status), ['cancelled', 'queued']);
  t.is(againRows[1].dedup_key, `appointment:${b.id}:reminder:1440m`);
  t.is(againRows[1].send_at.toISOString(), `${Y}-05-31T06:00:00.000Z`);
});

test.serial('objection and restriction: the reminder is blocked with the reason, visible in the patient\'s messages', async (t) => {
  const objecting = await newPatient(env.admin, ['whatsapp_contact']);
  t.is((await env.admin.post(`/api/v1/patients/${objecting.id}/objection`, { objected: true })).status, 200);
  const a = await book(objecting.id, `${Y}-07-01T09:00`);
  const rows = await outboxOf(a.id);
  const reminder = rows.find((r) => r.purpose === 'appointment_reminder')!;
  t.is(reminder.status, 'blocked');
  t.is(reminder.blocked_reason, 'objection');
  t.is(rows.find((r) => r.purpose === 'appointment_confirmation')!.status, 'queued', 'a confirmation is not automated: an objection does not block it');
  const listed = (await env.admin.get(`/api/v1/patients/${objecting.id}/messages`)).body.items.find((m: { id: string }) => m.id === reminder.id);
  t.is(listed.blockedReason, 'objection');

  // restricted after booking: the move re-decides and the reminder is blocked
  const restricted = await newPatient(env.admin, ['whatsapp_contact']);
  const b = await book(restricted.id, `${Y}-07-02T09:00`);
  t.is((await outboxOf(b.id)).find((r) => r.purpose === 'appointment_reminder')!.status, 'queued');
  t.is((await env.admin.post(`/api/v1/patients/${restricted.id}/restriction`, { restricted: true, reason: 'Richtigkeit bestritten' })).status, 200);
  const moved = await env.admin.patch(`${api}/${b.id}`, { version: b.version, start: `${Y}-07-03T09:00` });
  t.is(moved.status, 200, moved.text);
  const r2 = (await outboxOf(b.id)).find((r) => r.purpose === 'appointment_reminder')!;
  t.is(r2.status, 'blocked');
  t.is(r2.blocked_reason, 'restriction');

  // the objection withdrawn, the appointment moves: the reminder is decided afresh and queued
  t.is((await env.admin.post(`/api/v1/patients/${objecting.id}/objection`, { objected: false })).status, 200);
  const movedBack = await env.admin.patch(`${api}/${a.id}`, { version: a.version, start: `${Y}-07-01T10:00` });
  t.is(movedBack.status, 200, movedBack.text);
  const after = (await outboxOf(a.id)).filter((r) => r.purpose === 'appointment_reminder');
  t.deepEqual(after.map((r) => [r.status, r.blocked_reason]), [['blocked', 'objection'], ['queued', null]], 'the blocked one stays visible with its reason');
});

test.serial('channel per patient: e-mail when WhatsApp is not consented, in the patient\'s language; no channel on → nothing written', async (t) => {
  const p = await newPatient(env.admin, ['email_contact'], { language: 'en' });
  const a = await book(p.id, `${Y}-09-14T16:45`);
  const rows = await outboxOf(a.id);
  t.deepEqual(rows.map((r) => [r.purpose, r.channel, r.status]), [['appointment_confirmation', 'email', 'queued'], ['appointment_reminder', 'email', 'queued']]);
  const mail = await waitFor('mail', () => env.smtp.mails.find((m) => m.to.includes(p.email) && m.data.includes(rows[0].id)));
  t.regex(mail.data, new RegExp(`14 September ${Y}`));
  t.regex(mail.data, /16:45/);
  // neither consent: WhatsApp is tried and the reason is shown (e-mail would fail the same way)
  const none = await newPatient(env.admin, []);
  const b = await book(none.id, `${Y}-09-15T10:00`);
  const blocked = await outboxOf(b.id);
  t.true(blocked.every((r) => r.status === 'blocked' && r.blocked_reason === 'no_consent'), JSON.stringify(blocked));
  // channels off: the calendar works, nothing is queued
  t.is((await env.admin.put('/api/v1/messaging/channels', { email: { enabled: false }, whatsapp: { enabled: false, provider: 'meta' } })).status, 200);
  const c = await book(p.id, `${Y}-09-16T10:00`);
  t.deepEqual(await outboxOf(c.id), []);
  await enableChannels(env.admin);
});
