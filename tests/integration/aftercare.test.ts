// Aftercare and follow-up plans (issue 11, item 2) against the real server, PostgreSQL, the fake
// WhatsApp Cloud API and a real SMTP server: templates managed by admins (bad input → 400 naming
// the field), applied to a patient's treatment plan with an anchor date, messages through the outbox
// at 09:00 (organization's zone) of their day, a step moved or skipped, follow-up appointments as
// tasks until booked, the plan cancelled (nothing unsent goes out), objection → blocked with the
// reason, titles encrypted, tenant isolation, erasure.
import test from 'ava';
import { clientAs, newOrganization, ownerQuery } from './patients-fixtures.ts';
import { enableChannels, newPatient, startMessagingEnv, waitFor, type MessagingEnv } from './messaging-fixtures.ts';
import { addDays, berlinDay } from '../helpers/days.ts';

let env: MessagingEnv;
const tpl = '/api/v1/aftercare/templates';

/** 09:00 Berlin of a day, as UTC. */
const nineBerlin = (day: string) => {
  for (const off of ['+01:00', '+02:00']) {
    const d = new Date(`${day}T09:00:00${off}`);
    if (new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', hourCycle: 'h23' }).format(d) === '09') return d.toISOString();
  }
  throw new Error('no 09:00');
};

const SURGERY = {
  nameDe: 'OP-Nachsorge', nameEn: 'Surgery aftercare',
  steps: [
    { dayOffset: 7, titleDe: 'Fäden ziehen', titleEn: 'Stitches out', sendMessage: false, bookAppointment: true },
    { dayOffset: 0, titleDe: 'Guten Start', titleEn: 'Good start', sendMessage: true, bookAppointment: false },
    { dayOffset: 1, titleDe: 'Wie geht es Ihnen?', titleEn: 'How are you?', sendMessage: true, bookAppointment: false },
    { dayOffset: 30, titleDe: 'Kontrolle nach einem Monat', titleEn: 'One-month check', sendMessage: true, bookAppointment: true },
  ],
};

let templateId: string;

async function planEntryOf(patientId: string): Promise<string> {
  const res = await env.admin.post(`/api/v1/patients/${patientId}/plans`, { title: 'Eingriff', steps: [] });
  if (res.status !== 201) throw new Error(res.text);
  const [row] = await ownerQuery<{ id: string }>(env.app.db.ownerUrl, "select id from record_entries where patient_id = ? and kind = 'plan' order by created_at desc limit 1", [patientId]);
  return row.id;
}

async function apply(patientId: string, anchorDate: string) {
  const res = await env.admin.post(`/api/v1/patients/${patientId}/aftercare`, { templateId, planEntryId: await planEntryOf(patientId), anchorDate });
  if (res.status !== 201) throw new Error(`${res.status} ${res.text}`);
  return res.body.plan as { id: string; steps: { id: string; dayOffset: number; dueDate: string; status: string; title: { de: string; en: string }; message: { id: string; status: string; blockedReason: string | null; sendAt: string } | null }[] };
}

test.before(async () => {
  env = await startMessagingEnv();
  await enableChannels(env.admin);
  const r = await env.admin.put('/api/v1/messaging/templates', { purpose: 'aftercare_step', language: 'de', body: 'Nachsorge: {{stepTitle}}', healthDataReason: 'Schritt-Titel ohne Diagnose, von der Praxis geprüft',
    whatsappTemplate: { name: 'nachsorge', languageCode: 'de', parameters: ['stepTitle'] } });
  if (r.status !== 200) throw new Error(r.text);
  const r2 = await env.admin.put('/api/v1/messaging/templates', { purpose: 'aftercare_step', language: 'en', body: 'Aftercare: {{stepTitle}}', healthDataReason: 'Step titles without diagnoses, checked by the practice',
    whatsappTemplate: { name: 'nachsorge', languageCode: 'en', parameters: ['stepTitle'] } });
  if (r2.status !== 200) throw new Error(r2.text);
});
test.after.always(async () => {
  await env?.stop();
});

test.serial('admins manage templates (steps ordered by day); bad input is a 400 naming the field; staff may read, not change', async (t) => {
  const res = await env.admin.post(tpl, SURGERY);
  t.is(res.status, 201, res.text);
  templateId = res.body.template.id;
  t.deepEqual(res.body.template.steps.map((s: { dayOffset: number }) => s.dayOffset), [0, 1, 7, 30]);
  const bad: [unknown, string][] = [
    [{ ...SURGERY, steps: [{ ...SURGERY.steps[0], sendMessage: false, bookAppointment: false }] }, 'body.steps.0.sendMessage'],
    [{ ...SURGERY, steps: [{ ...SURGERY.steps[0], dayOffset: -1 }] }, 'body.steps.0.dayOffset'],
    [{ ...SURGERY, steps: [{ ...SURGERY.steps[0], appointmentTypeId: crypto.randomUUID() }] }, 'body.steps.0.appointmentTypeId'],
    [{ ...SURGERY, nameDe: '' }, 'body.nameDe'],
    [{ ...SURGERY, steps: [] }, 'body.steps'],
  ];
  for (const [body, field] of bad) {
    const r = await env.admin.post(tpl, body);
    t.is(r.status, 400, field);
    t.true(JSON.stringify(r.body).includes(`"${field}"`), `${field}: ${r.text}`);
  }
  t.is((await ownerQuery<{ n: string }>(env.app.db.ownerUrl, 'select count(*) as n from aftercare_templates'))[0].n, '1', 'nothing half-written');
  const staff = await clientAs(env.app, env.organizationId, ['staff']);
  t.is((await staff.get(tpl)).status, 200);
  t.is((await staff.post(tpl, SURGERY)).status, 403);
  t.is((await staff.request('PUT', `${tpl}/${templateId}`, SURGERY)).status, 403);
  const changed = await env.admin.request('PUT', `${tpl}/${templateId}`, { ...SURGERY, nameEn: 'Aftercare after surgery' });
  t.is(changed.status, 200, changed.text);
  t.is(changed.body.template.nameEn, 'Aftercare after surgery');
});

test.serial('applied with an anchor date: steps dated, messages queued at 09:00 of their day (today\'s at once after 09:00, at 09:00 before it; in the patient\'s language), titles encrypted', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact'], { language: 'en' });
  const today = berlinDay();
  const plan = await apply(p.id, today);
  t.deepEqual(plan.steps.map((s) => s.dueDate), [today, addDays(today, 1), addDays(today, 7), addDays(today, 30)]);
  const [day0, day1, day7, day30] = plan.steps;
  t.is(day7.message, null, 'a follow-up without a message writes none');
  t.is(day1.message!.status, 'queued');
  t.is(day1.message!.sendAt, nineBerlin(addDays(today, 1)));
  t.is(day30.message!.sendAt, nineBerlin(addDays(today, 30)));
  if (Date.parse(day0.message!.sendAt) > Date.now()) {
    // Applied before 09:00 (Berlin): today's message waits for 09:00 of today and is not sent yet …
    t.is(day0.message!.sendAt, nineBerlin(today), 'before 09:00 today\'s message waits for 09:00');
    t.is(day0.message!.status, 'queued');
    t.false(env.fake.requests.some((x) => x.body.biz_opaque_callback_data === day0.message!.id));
    // … and goes out when 09:00 comes (brought forward here instead of waiting for it).
    await env.owner('outbox_messages').where({ id: day0.message!.id }).update({ send_at: new Date(), next_attempt_at: new Date() });
  } else {
    t.true(Date.parse(day0.message!.sendAt) <= Date.now() + 1000, 'after 09:00 today\'s message goes at once');
  }
  const [req] = await waitFor('day-0 message at the fake WhatsApp', () => {
    const r = env.fake.requests.filter((x) => x.body.biz_opaque_callback_data === day0.message!.id);
    return r.length ? r : undefined;
  });
  t.is(req.body.template.name, 'nachsorge');
  t.is(req.body.template.language.code, 'en');
  t.is(req.body.template.components[0].parameters[0].text, 'Good start');
  const raw = await env.owner('aftercare_steps').where({ plan_id: plan.id });
  t.true(raw.every((r: { title: Buffer }) => !r.title.toString('latin1').includes('Stitches') && !r.title.toString('latin1').includes('Fäden')), 'titles are encrypted');
  const audit = await env.owner('audit_log').where({ action: 'aftercare_plan.apply', object_id: p.id });
  t.is(audit.length, 1);

  // a plan anchored in the past sends nothing for days that have passed
  const q = await newPatient(env.admin, ['whatsapp_contact']);
  const old = await apply(q.id, addDays(today, -10));
  t.deepEqual(old.steps.map((s) => s.message?.status ?? null), [null, null, null, 'queued']);
});

test.serial('a step gets another date (its message moves), is skipped (cancelled) and un-skipped (queued again)', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const anchor = berlinDay(2);
  const plan = await apply(p.id, anchor);
  const step = plan.steps[1];
  const moved = await env.admin.patch(`/api/v1/aftercare/steps/${step.id}`, { dueDate: addDays(anchor, 4) });
  t.is(moved.status, 200, moved.text);
  const after = moved.body.plan.steps.find((s: { id: string }) => s.id === step.id);
  t.is(after.dueDate, addDays(anchor, 4));
  t.is(after.message.id, step.message!.id, 'the same outbox message');
  t.is(after.message.sendAt, nineBerlin(addDays(anchor, 4)));
  const skipped = await env.admin.patch(`/api/v1/aftercare/steps/${step.id}`, { status: 'skipped' });
  t.is(skipped.body.plan.steps.find((s: { id: string }) => s.id === step.id).message.status, 'cancelled');
  const again = await env.admin.patch(`/api/v1/aftercare/steps/${step.id}`, { status: 'open' });
  const m = again.body.plan.steps.find((s: { id: string }) => s.id === step.id).message;
  t.is(m.status, 'queued');
  t.not(m.id, step.message!.id, 'a new message; the cancelled one stays as it was');
  for (const [body, field] of [[{ dueDate: '2026-02-30' }, 'body.dueDate'], [{ status: 'done' }, 'body.status'], [{ appointmentId: crypto.randomUUID() }, 'body.appointmentId']] as const) {
    const r = await env.admin.patch(`/api/v1/aftercare/steps/${step.id}`, body);
    t.is(r.status, 400, field);
    t.true(JSON.stringify(r.body).includes(`"${field}"`), r.text);
  }
});

test.serial('follow-ups to book are tasks until an appointment is recorded; cancelling the plan cancels every unsent message and open task', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const plan = await apply(p.id, berlinDay(-7)); // day 7 is today
  const followUp = plan.steps.find((s) => s.dayOffset === 7)!;
  const tasks = (await env.admin.get('/api/v1/aftercare/tasks')).body.tasks as { stepId: string; patient: { familyName: string }; title: { de: string } }[];
  const task = tasks.find((x) => x.stepId === followUp.id);
  t.truthy(task, 'due today: in today\'s list');
  t.is(task!.title.de, 'Fäden ziehen');
  t.falsy(tasks.find((x) => x.stepId === plan.steps.find((s) => s.dayOffset === 30)!.id), 'day 30 is not due yet');
  t.truthy((await env.admin.get('/api/v1/aftercare/tasks?days=30')).body.tasks.find((x: { stepId: string }) => x.stepId === plan.steps[3].id));
  t.is((await env.admin.get('/api/v1/aftercare/tasks?days=99')).status, 400);

  const types = (await env.admin.get('/api/v1/appointments/settings')).body.types;
  const room = (await env.admin.post('/api/v1/appointments/resources', { kind: 'room', name: 'Nachsorgeraum' })).body.resource;
  const other = await newPatient(env.admin, []);
  const foreign = await env.admin.post('/api/v1/appointments', { patientId: other.id, typeId: types[2].id, roomId: room.id, start: `${berlinDay(3)}T10:00` });
  t.is((await env.admin.patch(`/api/v1/aftercare/steps/${followUp.id}`, { appointmentId: foreign.body.appointment.id })).status, 400, 'another patient\'s appointment');
  const appt = await env.admin.post('/api/v1/appointments', { patientId: p.id, typeId: types[2].id, roomId: room.id, start: `${berlinDay(4)}T10:00` });
  t.is(appt.status, 201, appt.text);
  const booked = await env.admin.patch(`/api/v1/aftercare/steps/${followUp.id}`, { appointmentId: appt.body.appointment.id });
  t.is(booked.status, 200, booked.text);
  t.is(booked.body.plan.steps.find((s: { id: string }) => s.id === followUp.id).status, 'booked');
  t.falsy((await env.admin.get('/api/v1/aftercare/tasks')).body.tasks.find((x: { stepId: string }) => x.stepId === followUp.id), 'booked: no task any more');
  t.is((await env.admin.patch(`/api/v1/aftercare/steps/${followUp.id}`, { status: 'skipped' })).status, 409);

  const queuedBefore = plan.steps.filter((s) => s.message?.status === 'queued').map((s) => s.message!.id);
  t.true(queuedBefore.length >= 1);
  const cancelled = await env.admin.post(`/api/v1/aftercare/plans/${plan.id}/cancel`, {});
  t.is(cancelled.status, 200, cancelled.text);
  t.is(cancelled.body.plan.status, 'cancelled');
  const states = await env.owner('outbox_messages').whereIn('id', queuedBefore).select('status');
  t.true(states.every((s: { status: string }) => s.status === 'cancelled'), JSON.stringify(states));
  t.deepEqual(cancelled.body.plan.steps.map((s: { status: string }) => s.status), ['cancelled', 'cancelled', 'booked', 'cancelled']);
  t.falsy((await env.admin.get('/api/v1/aftercare/tasks?days=60')).body.tasks.find((x: { planId: string }) => x.planId === plan.id));
  t.is((await env.admin.post(`/api/v1/aftercare/plans/${plan.id}/cancel`, {})).status, 409);
  t.is((await env.admin.patch(`/api/v1/aftercare/steps/${plan.steps[3].id}`, { dueDate: berlinDay(40) })).status, 409);
});

test.serial('objection: aftercare messages are blocked with the reason; bad apply input names the field; other organizations see nothing; erasure removes the plans', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  t.is((await env.admin.post(`/api/v1/patients/${p.id}/objection`, { objected: true })).status, 200);
  const plan = await apply(p.id, berlinDay(1));
  t.true(plan.steps.filter((s) => s.message).every((s) => s.message!.status === 'blocked' && s.message!.blockedReason === 'objection'));

  const q = await newPatient(env.admin, []);
  const entry = await planEntryOf(q.id);
  const cases: [Record<string, unknown>, string][] = [
    [{ templateId, planEntryId: entry, anchorDate: '2026-02-30' }, 'body.anchorDate'],
    [{ templateId: crypto.randomUUID(), planEntryId: entry, anchorDate: '2026-12-01' }, 'body.templateId'],
    [{ templateId, planEntryId: await planEntryOf(p.id), anchorDate: '2026-12-01' }, 'body.planEntryId'],
  ];
  for (const [body, field] of cases) {
    const r = await env.admin.post(`/api/v1/patients/${q.id}/aftercare`, body);
    t.is(r.status, 400, field);
    t.true(JSON.stringify(r.body).includes(`"${field}"`), r.text);
  }
  t.deepEqual((await env.admin.get(`/api/v1/patients/${q.id}/aftercare`)).body.plans, [], 'nothing half-written');

  const org = await newOrganization(env.app, `aftercare-other-${Date.now()}`);
  const stranger = await clientAs(env.app, org, ['admin']);
  t.deepEqual((await stranger.get(tpl)).body.templates, []);
  t.is((await stranger.patch(`/api/v1/aftercare/steps/${plan.steps[0].id}`, { status: 'skipped' })).status, 404);
  t.is((await stranger.post(`/api/v1/aftercare/plans/${plan.id}/cancel`, {})).status, 404);

  t.is((await env.admin.post(`/api/v1/patients/${p.id}/erasure`, { confirm: true })).status, 200);
  const left = await ownerQuery<{ n: string }>(env.app.db.ownerUrl, 'select (select count(*) from aftercare_plans where patient_id = ?) + (select count(*) from aftercare_steps where patient_id = ?) as n', [p.id, p.id]);
  t.is(left[0].n, '0');
});
