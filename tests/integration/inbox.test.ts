// The shared inbox against real parts: PostgreSQL, the worker, the fake WhatsApp Cloud API on
// loopback and signed webhooks. Inbound messages become conversations with unread counts; staff
// assign them, mark them done and reply — free text inside the 24 h window, a template outside.
import test from 'ava';
import { createDb, withScope } from '../../app/api/src/db/connection.ts';
import { inboundEvent, postWebhook } from '../helpers/fake-whatsapp.ts';
import { clientAs, newOrganization } from './patients-fixtures.ts';
import { enableChannels, messageOf, newPatient, PHONE_NUMBER_ID, startMessagingEnv, waitFor, type MessagingEnv } from './messaging-fixtures.ts';

let env: MessagingEnv;
let seq = 0;

test.before(async () => {
  env = await startMessagingEnv();
  await enableChannels(env.admin);
  const r = await env.admin.put('/api/v1/messaging/templates', { purpose: 'document_request', language: 'de',
    body: 'Bitte senden Sie {{documentName}}.', whatsappTemplate: { name: 'document_request', languageCode: 'de', parameters: ['documentName'] } });
  if (r.status !== 200) throw new Error(r.text);
});
test.after.always(async () => {
  await env?.stop();
});

const pending = async () => Number((await env.owner('webhook_events').whereNull('processed_at').count({ n: '*' }))[0].n);

async function inbound(from: string, m: { text?: string; type?: string; media?: Record<string, unknown>; name?: string; timestamp?: number }) {
  const event = inboundEvent(PHONE_NUMBER_ID, { id: `wamid.inbox${Date.now()}${seq++}`, from, ...m });
  if (m.timestamp) (event as any).entry[0].changes[0].value.messages[0].timestamp = String(m.timestamp);
  const res = await postWebhook(env.app.url, event, env.appSecret);
  if (res.status !== 200) throw new Error(`webhook ${res.status}`);
  await waitFor('webhooks applied', async () => (await pending()) === 0);
}

const sentTo = (id: string) => env.fake.requests.filter((r) => r.body.biz_opaque_callback_data === id);

test.serial('inbound text, image and voice → one conversation with three unread; reading marks it read and is audited', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const from = p.whatsapp.replace('+', '');
  await inbound(from, { text: 'Guten Tag, eine Frage zum Termin' });
  await inbound(from, { type: 'image', media: { id: 'img1', mime_type: 'image/jpeg', caption: 'Foto der Narbe' } });
  await inbound(from, { type: 'audio', media: { id: 'voice1', mime_type: 'audio/ogg; codecs=opus', voice: true } });
  const list = await env.admin.get('/api/v1/inbox');
  t.is(list.status, 200);
  const c = list.body.items.find((i: any) => i.id === p.id);
  t.truthy(c, 'the patient has a conversation');
  t.is(c.kind, 'patient');
  t.is(c.unread, 3);
  t.false(c.done);
  t.true(c.windowOpen);
  t.regex(c.name, /Zyrella/);

  const view = await env.admin.get(`/api/v1/inbox/patients/${p.id}`);
  t.is(view.status, 200);
  t.deepEqual(view.body.messages.map((m: any) => [m.direction, m.kind]), [['in', 'text'], ['in', 'image'], ['in', 'voice']]);
  t.is(view.body.messages[0].text, 'Guten Tag, eine Frage zum Termin');
  t.is(view.body.messages[1].text, 'Foto der Narbe');
  t.is(view.body.messages[2].media.mimeType, 'audio/ogg; codecs=opus');
  t.true(view.body.windowOpen);
  const after = (await env.admin.get('/api/v1/inbox')).body.items.find((i: any) => i.id === p.id);
  t.is(after.unread, 0, 'reading the conversation marks it read');
  const audited = await env.owner('audit_log').where({ action: 'inbox.read', object_id: p.id });
  t.is(audited.length, 1, 'reading is audited');
  // inbound content stays encrypted at rest
  for (const r of await env.owner('inbound_messages').where({ patient_id: p.id })) {
    t.false(r.content.toString('latin1').includes('Frage'));
    t.false(r.content.toString('latin1').includes('Narbe'));
  }
  // a new message makes it unread again
  await inbound(from, { text: 'Noch etwas' });
  t.is((await env.admin.get('/api/v1/inbox')).body.items.find((i: any) => i.id === p.id).unread, 1);
});

test.serial('assignment to a staff member and "done"; a new message reopens the conversation', async (t) => {
  const staff = await clientAs(env.app, env.organizationId, ['staff']);
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const from = p.whatsapp.replace('+', '');
  await inbound(from, { text: 'Bitte Rückruf' });
  const assign = await env.admin.put(`/api/v1/inbox/patients/${p.id}/state`, { assignedTo: staff.userId });
  t.is(assign.status, 200);
  t.deepEqual(assign.body, { assignedTo: staff.userId, done: false });
  const mine = await staff.get('/api/v1/inbox?assigned=me');
  t.is(mine.status, 200);
  t.deepEqual(mine.body.items.map((i: any) => i.id), [p.id]);
  t.is(mine.body.items[0].assigneeName, 'Test staff');
  const done = await staff.put(`/api/v1/inbox/patients/${p.id}/state`, { done: true });
  t.deepEqual(done.body, { assignedTo: staff.userId, done: true });
  t.false((await staff.get('/api/v1/inbox')).body.items.some((i: any) => i.id === p.id), 'done conversations leave the open list');
  t.true((await staff.get('/api/v1/inbox?status=done')).body.items.some((i: any) => i.id === p.id));
  await inbound(from, { text: 'Noch eine Frage' });
  const reopened = (await staff.get('/api/v1/inbox')).body.items.find((i: any) => i.id === p.id);
  t.truthy(reopened, 'a new message reopens it');
  t.false(reopened.done);
  t.is(reopened.assignedTo, staff.userId, 'the assignment stays');
  const unassign = await staff.put(`/api/v1/inbox/patients/${p.id}/state`, { assignedTo: null });
  t.is(unassign.body.assignedTo, null);
  t.true((await staff.get('/api/v1/inbox?assigned=nobody')).body.items.some((i: any) => i.id === p.id));
});

test.serial('reply within 24 h goes out as free text; outside the window free text is refused and a template goes out', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const from = p.whatsapp.replace('+', '');
  await inbound(from, { text: 'Wann kann ich kommen?' });
  const res = await env.admin.post(`/api/v1/inbox/patients/${p.id}/reply`, { text: 'Morgen um 10 Uhr passt.' });
  t.is(res.status, 201);
  t.is(res.body.message.purpose, 'reply');
  t.is(res.body.message.status, 'queued');
  await waitFor('reply sent', async () => ((await messageOf(env.admin, p.id, res.body.message.id))?.status === 'sent' ? true : undefined));
  const [req] = sentTo(res.body.message.id);
  t.is(req.body.type, 'text');
  t.is(req.body.text.body, 'Morgen um 10 Uhr passt.');
  t.is(req.body.to, from);
  const row = await env.owner('outbox_messages').where({ id: res.body.message.id }).first();
  t.false(row.variables.toString('latin1').includes('Morgen'), 'the reply text is encrypted at rest');
  const view = await env.admin.get(`/api/v1/inbox/patients/${p.id}`);
  t.deepEqual(view.body.messages.map((m: any) => [m.direction, m.text]), [['in', 'Wann kann ich kommen?'], ['out', 'Morgen um 10 Uhr passt.']]);

  // a patient whose last message is 25 h old
  const q = await newPatient(env.admin, ['whatsapp_contact']);
  await inbound(q.whatsapp.replace('+', ''), { text: 'Alte Nachricht', timestamp: Math.floor(Date.now() / 1000) - 25 * 3600 });
  const closed = await env.admin.post(`/api/v1/inbox/patients/${q.id}/reply`, { text: 'Zu spät' });
  t.is(closed.status, 400);
  t.is(closed.body.details[0].field, 'body.text');
  t.is(closed.body.details[0].code, 'window_closed');
  t.is(await env.owner('outbox_messages').where({ patient_id: q.id }).count({ n: '*' }).then((r) => Number(r[0].n)), 0, 'nothing written');
  t.false((await env.admin.get(`/api/v1/inbox/patients/${q.id}`)).body.windowOpen);
  const tpl = await env.admin.post(`/api/v1/inbox/patients/${q.id}/reply`, { purpose: 'document_request', variables: { documentName: 'Befund' } });
  t.is(tpl.status, 201);
  await waitFor('template sent', async () => ((await messageOf(env.admin, q.id, tpl.body.message.id))?.status === 'sent' ? true : undefined));
  const [treq] = sentTo(tpl.body.message.id);
  t.is(treq.body.type, 'template');
  t.is(treq.body.template.name, 'document_request');
});

test.serial('a reply queued inside the window but delivered after it closed is blocked, not sent as free text', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  await inbound(p.whatsapp.replace('+', ''), { text: 'Kurz vor Ablauf' });
  const res = await env.admin.post(`/api/v1/inbox/patients/${p.id}/reply`, { text: 'Später', });
  t.is(res.status, 201);
  // the send is delayed and the patient's message moved 25 h into the past meanwhile
  await env.owner('outbox_messages').where({ id: res.body.message.id, status: 'queued' }).update({ send_at: new Date(Date.now() + 1500), next_attempt_at: new Date(Date.now() + 1500) });
  await env.owner('inbound_messages').where({ patient_id: p.id }).update({ received_at: new Date(Date.now() - 25 * 3600_000) });
  const m = await waitFor('blocked', async () => { const x = await messageOf(env.admin, p.id, res.body.message.id); return x?.status === 'blocked' ? x : undefined; });
  t.is(m.blockedReason, 'window_closed');
  t.is(sentTo(res.body.message.id).length, 0);
});

test.serial('prospects: unknown senders appear as prospect conversations with their profile name', async (t) => {
  await inbound('4917699887766', { text: 'Ich hätte gern einen Termin', name: 'Maxi Muster' });
  const list = await env.admin.get('/api/v1/inbox');
  const c = list.body.items.find((i: any) => i.kind === 'prospect' && i.name === 'Maxi Muster');
  t.truthy(c);
  t.is(c.unread, 1);
  const view = await env.admin.get(`/api/v1/inbox/prospects/${c.id}`);
  t.is(view.status, 200);
  t.is(view.body.phone, '+4917699887766');
  t.is(view.body.messages[0].text, 'Ich hätte gern einen Termin');
  t.is((await env.admin.put(`/api/v1/inbox/prospects/${c.id}/state`, { done: true })).body.done, true);
});

test.serial('a prospect becomes a patient: the number and the conversation move over, re-encrypted; the prospect is gone', async (t) => {
  await inbound('4917611122233', { text: 'Erste Anfrage', name: 'Ria Neu' });
  await inbound('4917611122233', { type: 'audio', media: { id: 'v9', mime_type: 'audio/ogg', voice: true } });
  const c = (await env.admin.get('/api/v1/inbox')).body.items.find((i: any) => i.kind === 'prospect' && i.name === 'Ria Neu');
  const staff = await clientAs(env.app, env.organizationId, ['staff']);
  await env.admin.put(`/api/v1/inbox/prospects/${c.id}/state`, { assignedTo: staff.userId });
  const before = await env.owner('inbound_messages').where({ prospect_id: c.id }).orderBy('received_at');
  t.is(before.length, 2);
  const bad = await staff.post(`/api/v1/inbox/prospects/${c.id}/patient`, { givenName: 'Ria', familyName: 'Neu', sex: 'female' });
  t.is(bad.status, 400);
  t.true(JSON.stringify(bad.body.details).includes('body.birthDate'));
  t.is(Number((await env.owner('prospects').where({ id: c.id }).count({ n: '*' }))[0].n), 1, 'nothing half-changed');
  const res = await staff.post(`/api/v1/inbox/prospects/${c.id}/patient`, { givenName: 'Ria', familyName: 'Neu', sex: 'female', birthDate: '1990-04-01', language: 'de' });
  t.is(res.status, 201, res.text);
  const patientId = res.body.patient.id;
  t.is(res.body.patient.whatsapp, '+4917611122233', 'the number carried over');
  t.deepEqual((await staff.get(`/api/v1/patients/${patientId}/source-channel`)).body, { sourceChannel: 'whatsapp' }, 'a prospect wrote over WhatsApp: the source channel says so');
  // one entry says it: the patient was created with the channel (no second write, no second entry)
  const created = await env.owner('audit_log').where({ object_id: patientId }).whereIn('action', ['patient.create', 'patient.source_channel.updated']).select('action', 'details');
  t.deepEqual(created.map((r: any) => [r.action, r.details.sourceChannel]), [['patient.create', 'whatsapp']], 'the source channel is audited with the creation');
  t.is(Number((await env.owner('prospects').where({ id: c.id }).count({ n: '*' }))[0].n), 0);
  const after = await env.owner('inbound_messages').whereIn('id', before.map((r: any) => r.id)).orderBy('received_at');
  t.true(after.every((r: any) => r.patient_id === patientId && r.prospect_id === null));
  t.false(after[0].content.equals(before[0].content), 're-encrypted with the patient\'s key');
  const view = await staff.get(`/api/v1/inbox/patients/${patientId}`);
  t.is(view.status, 200);
  t.deepEqual(view.body.messages.map((m: any) => [m.kind, m.text]), [['text', 'Erste Anfrage'], ['voice', null]]);
  t.is(view.body.assignedTo, staff.userId, 'the assignment moved with the conversation');
  t.is((await staff.get(`/api/v1/inbox/prospects/${c.id}`)).status, 404);
  // the next message from the number lands at the patient, not at a new prospect
  await inbound('4917611122233', { text: 'Danke!' });
  t.is(Number((await env.owner('inbound_messages').where({ patient_id: patientId }).count({ n: '*' }))[0].n), 3);
  t.is(Number((await env.owner('prospects').count({ n: '*' }))[0].n), 1, 'only the other test\'s prospect');
  const finance = await clientAs(env.app, env.organizationId, ['finance']);
  t.is((await finance.post(`/api/v1/inbox/prospects/${c.id}/patient`, { givenName: 'A', familyName: 'B', sex: 'female', birthDate: '1990-01-01' })).status, 403);
});

test.serial('assignees: the active staff members who may read the inbox; a conversation can be assigned to one of them, not to finance or a deactivated user', async (t) => {
  const doctor = await clientAs(env.app, env.organizationId, ['doctor']);
  const admin = await clientAs(env.app, env.organizationId, ['admin']);
  const finance = await clientAs(env.app, env.organizationId, ['finance']);
  const gone = await clientAs(env.app, env.organizationId, ['staff']);
  const off = await env.admin.patch(`/api/v1/users/${gone.userId}`, { active: false });
  t.is(off.status, 200, off.text);
  const other = await clientAs(env.app, await newOrganization(env.app, `inbox-assignees-${Date.now()}`), ['staff']);
  const staff = await clientAs(env.app, env.organizationId, ['staff']);
  const res = await staff.get('/api/v1/inbox/assignees');
  t.is(res.status, 200, res.text);
  const ids = res.body.assignees.map((a: any) => a.id);
  t.true(ids.includes(doctor.userId));
  t.true(ids.includes(staff.userId));
  t.true(ids.includes(admin.userId));
  t.false(ids.includes(finance.userId), 'finance may not read the inbox');
  t.false(ids.includes(gone.userId), 'deactivated');
  t.false(ids.includes(other.userId), 'another organization');
  t.deepEqual(res.body.assignees.filter((a: any) => a.me).map((a: any) => a.id), [staff.userId]);
  t.is(res.body.assignees.find((a: any) => a.id === doctor.userId).displayName, 'Test doctor');
  t.is((await finance.get('/api/v1/inbox/assignees')).status, 403);

  const p = await newPatient(env.admin, ['whatsapp_contact']);
  await inbound(p.whatsapp.replace('+', ''), { text: 'Wer kümmert sich?' });
  const assign = await staff.put(`/api/v1/inbox/patients/${p.id}/state`, { assignedTo: doctor.userId });
  t.deepEqual(assign.body, { assignedTo: doctor.userId, done: false });
  t.is((await doctor.get('/api/v1/inbox?assigned=me')).body.items.find((i: any) => i.id === p.id)?.assigneeName, 'Test doctor');
  for (const [who, code] of [[finance.userId, 'not_permitted'], [gone.userId, 'not_found']] as const) {
    const bad = await staff.put(`/api/v1/inbox/patients/${p.id}/state`, { assignedTo: who });
    t.is(bad.status, 400, who);
    t.is(bad.body.details[0].field, 'body.assignedTo');
    t.is(bad.body.details[0].code, code);
  }
  t.is((await staff.get(`/api/v1/inbox/patients/${p.id}`)).body.assignedTo, doctor.userId, 'unchanged after the refusals');
});

test.serial('roles: finance gets 403 on every inbox route; doctor, coordinator and staff may read', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  await inbound(p.whatsapp.replace('+', ''), { text: 'Hallo' });
  const finance = await clientAs(env.app, env.organizationId, ['finance']);
  t.is((await finance.get('/api/v1/inbox')).status, 403);
  t.is((await finance.get('/api/v1/inbox/assignees')).status, 403);
  t.is((await finance.get(`/api/v1/inbox/patients/${p.id}`)).status, 403);
  t.is((await finance.put(`/api/v1/inbox/patients/${p.id}/state`, { done: true })).status, 403);
  t.is((await finance.post(`/api/v1/inbox/patients/${p.id}/reply`, { text: 'x' })).status, 403);
  for (const role of ['doctor', 'coordinator', 'staff'] as const) {
    const c = await clientAs(env.app, env.organizationId, [role]);
    t.is((await c.get('/api/v1/inbox')).status, 200, role);
  }
});

test.serial('a second organization sees no conversation (RLS), cannot read, assign or reply', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  await inbound(p.whatsapp.replace('+', ''), { text: 'Nur für meine Praxis' });
  const org = await newOrganization(env.app, `inbox-rls-${Date.now()}`);
  const other = await clientAs(env.app, org, ['admin']);
  t.deepEqual((await other.get('/api/v1/inbox')).body.items, []);
  t.is((await other.get(`/api/v1/inbox/patients/${p.id}`)).status, 404);
  t.is((await other.put(`/api/v1/inbox/patients/${p.id}/state`, { done: true })).status, 404);
  t.is((await other.post(`/api/v1/inbox/patients/${p.id}/reply`, { text: 'x' })).status, 404);
  // assigning to a user of another organization is refused
  const stranger = await clientAs(env.app, org, ['staff']);
  const bad = await env.admin.put(`/api/v1/inbox/patients/${p.id}/state`, { assignedTo: stranger.userId });
  t.is(bad.status, 400);
  t.is(bad.body.details[0].field, 'body.assignedTo');
  const appDb = createDb(env.app.db.appUrl, 1);
  try {
    const rows = await appDb.transaction(async (trx): Promise<{ id: string }[]> => {
      await trx.raw("select set_config('app.org_id', ?, true)", [org]);
      return trx('conversations').select('id');
    });
    t.is(rows.length, 0);
  } finally {
    await appDb.destroy();
  }
});

test.serial('bad input: a 4xx naming the field, nothing written', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const cases: [string, string, unknown, string][] = [
    ['post', `/api/v1/inbox/patients/${p.id}/reply`, {}, 'body.text'],
    ['post', `/api/v1/inbox/patients/${p.id}/reply`, { text: 'a', purpose: 'document_request' }, 'body.text'],
    ['post', `/api/v1/inbox/patients/${p.id}/reply`, { text: '   ' }, 'body.text'],
    ['post', `/api/v1/inbox/patients/${p.id}/reply`, { text: 'x'.repeat(4097) }, 'body.text'],
    ['post', `/api/v1/inbox/patients/${p.id}/reply`, { purpose: 'nope' }, 'body.purpose'],
    ['post', `/api/v1/inbox/patients/${p.id}/reply`, { purpose: 'document_request', variables: { diagnosis: 'x' } }, 'body.variables.diagnosis'],
    ['put', `/api/v1/inbox/patients/${p.id}/state`, {}, 'body.assignedTo'],
    ['put', `/api/v1/inbox/patients/${p.id}/state`, { assignedTo: 'someone' }, 'body.assignedTo'],
    ['put', `/api/v1/inbox/patients/${p.id}/state`, { done: 'yes' }, 'body.done'],
    ['get', '/api/v1/inbox?status=unread', undefined, 'query.status'],
    ['get', '/api/v1/inbox/patients/not-a-uuid', undefined, 'params.id'],
  ];
  for (const [method, url, body, field] of cases) {
    const res = await (env.admin as any)[method](url, body);
    t.true(res.status >= 400 && res.status < 500, `${method} ${url} ${JSON.stringify(body)?.slice(0, 40)} → ${res.status}`);
    t.true(JSON.stringify(res.body.details ?? []).includes(field), `${url}: ${res.text.slice(0, 200)} names ${field}`);
  }
  t.is(Number((await env.owner('outbox_messages').where({ patient_id: p.id }).count({ n: '*' }))[0].n), 0);
  t.is(Number((await env.owner('conversations').where({ patient_id: p.id }).count({ n: '*' }))[0].n), 0);
  t.is((await env.admin.get('/api/v1/inbox/patients/00000000-0000-4000-8000-000000000000')).status, 404);
});

test.serial('export and erasure: the conversation is exported with the patient and removed with the patient', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  await inbound(p.whatsapp.replace('+', ''), { text: 'Bitte löschen' });
  await env.admin.put(`/api/v1/inbox/patients/${p.id}/state`, { done: true });
  const exp = await env.admin.get(`/api/v1/patients/${p.id}/export`);
  t.is(exp.status, 200, exp.text.slice(0, 300));
  t.is(exp.body.conversations.length, 1);
  t.truthy(exp.body.conversations[0].doneAt);
  t.is(exp.body.inboundMessages[0].content.text, 'Bitte löschen');
  const { rows } = await withScope(env.app.services.db, { organizationId: env.organizationId }, (trx) => trx.raw('select anonymize_patient(?) as ok', [p.id]));
  t.true(rows[0].ok);
  t.is(Number((await env.owner('conversations').where({ patient_id: p.id }).count({ n: '*' }))[0].n), 0);
  t.is(Number((await env.owner('inbound_messages').where({ patient_id: p.id }).count({ n: '*' }))[0].n), 0);
});
