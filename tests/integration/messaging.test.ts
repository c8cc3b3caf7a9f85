// Patient messaging end to end against real parts on loopback: a server speaking the WhatsApp
// Cloud API (Meta and 360dialog flavours) and a real SMTP server with verified STARTTLS. Consent,
// objection, restriction and erasure decide; webhooks are signed, deduplicated and move statuses
// only forwards; the circuit breaker opens and closes; bad input is a 4xx naming the field.
import test from 'ava';
import { createDb, withScope } from '../../app/api/src/db/connection.ts';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inboundEvent, postD360Webhook, postWebhook, sign, statusEvent } from '../helpers/fake-whatsapp.ts';
import { startTestSmtp } from '../helpers/smtp.ts';
import { cancelQueued, enqueueMessage } from '../../app/api/src/modules/messaging/outbox.service.ts';
import { closeTransports, sendMail } from '../../app/api/src/modules/messaging/providers.repository.ts';
import { WebhookProcessor } from '../../app/api/src/modules/messaging/webhook.processor.ts';
import type { AppError } from '../../app/api/src/core/errors.ts';
import { clientAs, newOrganization } from './patients-fixtures.ts';
import { enableChannels, messageOf, metric, newPatient, PHONE_NUMBER_ID, startMessagingEnv, waitFor, type MessagingEnv } from './messaging-fixtures.ts';

let env: MessagingEnv;

test.before(async () => {
  env = await startMessagingEnv();
  await enableChannels(env.admin);
  const wa = await env.admin.put('/api/v1/messaging/templates', { purpose: 'appointment_reminder', language: 'de',
    subject: 'Terminerinnerung', body: 'Guten Tag {{firstName}}, Ihr Termin bei {{practiceName}} ist am {{appointmentDate}} um {{appointmentTime}} Uhr.',
    whatsappTemplate: { name: 'termin_erinnerung', languageCode: 'de', parameters: ['firstName', 'appointmentDate', 'appointmentTime'] },
  });
  if (wa.status !== 200) throw new Error(wa.text);
  for (const purpose of ['document_request', 'appointment_confirmation']) {
    const r = await env.admin.put('/api/v1/messaging/templates', { purpose, language: 'de',
      body: purpose === 'document_request' ? 'Bitte senden Sie {{documentName}}.' : 'Termin am {{appointmentDate}} bestätigt.',
      whatsappTemplate: { name: purpose, languageCode: 'de', parameters: purpose === 'document_request' ? ['documentName'] : ['appointmentDate'] },
    });
    if (r.status !== 200) throw new Error(r.text);
  }
});
test.after.always(async () => {
  await env?.stop();
});

const reminder = { purpose: 'appointment_reminder', channel: 'whatsapp', variables: { appointmentDate: '03.12.2026', appointmentTime: '09:30' } };
const requestsFor = (id: string) => env.fake.requests.filter((r) => r.body.biz_opaque_callback_data === id);

test.serial('channels are off by default and the settings page says what each channel sends where', async (t) => {
  const org = await newOrganization(env.app, `msg-default-${Date.now()}`);
  const admin2 = await clientAs(env.app, org, ['admin']);
  const res = await admin2.get('/api/v1/messaging/channels');
  t.is(res.status, 200);
  t.false(res.body.email.enabled);
  t.false(res.body.whatsapp.enabled);
  t.regex(res.body.whatsapp.recipient, /Meta/);
  const mine = await env.admin.get('/api/v1/messaging/channels');
  t.true(mine.body.whatsapp.credentialPresent);
  t.is(mine.body.whatsapp.endpoint, `${env.fake.url}/v21.0/${PHONE_NUMBER_ID}/messages`);
  t.true(mine.body.email.starttlsRequired);
});

test.serial('a reminder with consent goes out as the approved WhatsApp template; status webhooks move it to delivered and read, never back', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const res = await env.admin.post(`/api/v1/patients/${p.id}/messages`, reminder);
  t.is(res.status, 201, res.text);
  t.is(res.body.message.status, 'queued');
  const id = res.body.message.id;
  const sent = await waitFor('sent', async () => ((await messageOf(env.admin, p.id, id))?.status === 'sent' ? true : undefined));
  t.true(sent);
  const [req] = requestsFor(id);
  t.is(req.flavour, 'meta');
  t.is(req.phoneNumberId, PHONE_NUMBER_ID);
  t.is(req.body.to, p.whatsapp.replace('+', ''));
  t.is(req.body.type, 'template');
  t.is(req.body.template.name, 'termin_erinnerung');
  t.deepEqual(req.body.template.components[0].parameters.map((x: { text: string }) => x.text).slice(1), ['03.12.2026', '09:30']);
  // read first, then a late delivered: the status stays read
  t.is((await postWebhook(env.app.url, statusEvent(PHONE_NUMBER_ID, [{ id: req.wamid!, status: 'read' }]), env.appSecret)).status, 200);
  await waitFor('read', async () => ((await messageOf(env.admin, p.id, id))?.status === 'read' ? true : undefined));
  t.is((await postWebhook(env.app.url, statusEvent(PHONE_NUMBER_ID, [{ id: req.wamid!, status: 'delivered' }]), env.appSecret)).status, 200);
  await waitFor('webhook applied', async () => Number((await env.owner('webhook_events').whereNull('processed_at').count({ n: '*' }))[0].n) === 0);
  t.is((await messageOf(env.admin, p.id, id))?.status, 'read');
  // the database refuses a step back too
  await t.throwsAsync(env.owner('outbox_messages').where({ id }).update({ status: 'sent' }), { message: /cannot go from read to sent/ });
});

test.serial('e-mail goes through the SMTP server with verified STARTTLS, with the outbox id as Message-ID', async (t) => {
  const p = await newPatient(env.admin, ['email_contact'], { language: 'en' });
  const res = await env.admin.post(`/api/v1/patients/${p.id}/messages`, { purpose: 'appointment_confirmation', channel: 'email', variables: { appointmentDate: '2026-12-03', appointmentTime: '09:30' } });
  t.is(res.status, 201, res.text);
  const mail = await waitFor('mail', () => env.smtp.mails.find((m) => m.to.includes(p.email)));
  t.true(mail.secure, 'delivered after STARTTLS');
  t.regex(mail.data, /Message-ID: <[0-9a-f-]{36}@praxiskern>/i);
  t.true(mail.data.includes(res.body.message.id));
  t.regex(mail.data, /Subject: Appointment confirmed/);
  t.regex(mail.data, /Hello Zyrella/, 'English template for an English-speaking patient');
  await waitFor('sent', async () => ((await messageOf(env.admin, p.id, res.body.message.id))?.status === 'sent' ? true : undefined));
});

test.serial('consent missing, objection, restriction, erasure: nothing is sent and the reason is shown', async (t) => {
  const before = env.fake.requests.length;
  const noConsent = await newPatient(env.admin, []);
  const r1 = await env.admin.post(`/api/v1/patients/${noConsent.id}/messages`, reminder);
  t.is(r1.body.message.status, 'blocked');
  t.is(r1.body.message.blockedReason, 'no_consent');

  const objecting = await newPatient(env.admin, ['whatsapp_contact']);
  t.is((await env.admin.post(`/api/v1/patients/${objecting.id}/objection`, { objected: true })).status, 200);
  const r2 = await env.admin.post(`/api/v1/patients/${objecting.id}/messages`, reminder);
  t.is(r2.body.message.blockedReason, 'objection');

  const restricted = await newPatient(env.admin, ['whatsapp_contact']);
  // queued for later, then the restriction comes: the worker re-checks and blocks it
  const later = await env.admin.post(`/api/v1/patients/${restricted.id}/messages`, { ...reminder, sendAt: new Date(Date.now() + 1500).toISOString() });
  t.is(later.body.message.status, 'queued');
  t.is((await env.admin.post(`/api/v1/patients/${restricted.id}/restriction`, { restricted: true, reason: 'Widerspruch gegen Richtigkeit' })).status, 200);
  const blocked = await waitFor('blocked at send time', async () => {
    const m = await messageOf(env.admin, restricted.id, later.body.message.id);
    return m?.status === 'blocked' ? m : undefined;
  });
  t.is(blocked.blockedReason, 'restriction');

  const erased = await newPatient(env.admin, ['whatsapp_contact']);
  const queued = await env.admin.post(`/api/v1/patients/${erased.id}/messages`, { ...reminder, sendAt: new Date(Date.now() + 3_600_000).toISOString() });
  t.is(queued.body.message.status, 'queued');
  t.is((await env.admin.post(`/api/v1/patients/${erased.id}/erasure`, { confirm: true })).status, 200);
  t.is(Number((await env.owner('outbox_messages').where({ patient_id: erased.id }).count({ n: '*' }))[0].n), 0, 'nothing left in the queue');

  // a consent withdrawn after queueing blocks it too
  const withdrawn = await newPatient(env.admin, ['whatsapp_contact']);
  const w = await env.admin.post(`/api/v1/patients/${withdrawn.id}/messages`, { ...reminder, sendAt: new Date(Date.now() + 1500).toISOString() });
  await env.admin.post(`/api/v1/patients/${withdrawn.id}/consents`, { purpose: 'whatsapp_contact', action: 'withdrawn', textVersion: '2026-01', channel: 'phone' });
  const wb = await waitFor('blocked', async () => {
    const m = await messageOf(env.admin, withdrawn.id, w.body.message.id);
    return m?.status === 'blocked' ? m : undefined;
  });
  t.is(wb.blockedReason, 'no_consent');

  const outbox = await env.admin.get('/api/v1/messaging/outbox?status=blocked');
  t.true(outbox.body.items.length >= 4);
  t.true(outbox.body.items.every((m: { blockedReason: string | null }) => m.blockedReason));
  const ids = [noConsent, objecting, restricted, erased, withdrawn].map((p) => p.whatsapp.replace('+', ''));
  t.false(env.fake.requests.slice(before).some((r) => ids.includes(r.body.to)), 'no request reached the provider');
});

test.serial('webhook GET handshake answers the challenge only with the verify token', async (t) => {
  const ok = await fetch(`${env.app.url}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${env.verifyToken}&hub.challenge=1158201444`);
  t.is(ok.status, 200);
  t.is(await ok.text(), '1158201444');
  const bad = await fetch(`${env.app.url}/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1158201444`);
  t.is(bad.status, 403);
  t.not(await bad.text(), '1158201444');
});

test.serial('forged or missing signature → 401 and nothing stored; not JSON → 400; oversized → 413', async (t) => {
  const count = async () => Number((await env.owner('webhook_events').count({ n: '*' }))[0].n);
  const before = await count();
  const event = inboundEvent(PHONE_NUMBER_ID, { id: 'wamid.forged1', from: '491609999999', text: 'hallo' });
  t.is((await postWebhook(env.app.url, event, 'not-the-app-secret')).status, 401);
  t.is((await postWebhook(env.app.url, event, env.appSecret, { signature: null })).status, 401);
  t.is((await postWebhook(env.app.url, event, env.appSecret, { signature: 'sha256=' + '0'.repeat(64) })).status, 401);
  t.is((await postWebhook(env.app.url, event, env.appSecret, { signature: 'sha1=abc' })).status, 401);
  const notJson = await postWebhook(env.app.url, undefined, env.appSecret, { raw: 'not json {' });
  t.is(notJson.status, 400);
  t.regex(notJson.body, /"field":"body"/);
  t.is((await postWebhook(env.app.url, undefined, env.appSecret, { raw: '[1,2]' })).status, 400);
  const big = await postWebhook(env.app.url, undefined, env.appSecret, { raw: JSON.stringify({ pad: 'x'.repeat(1_100_000) }) });
  t.is(big.status, 413);
  t.is(await count(), before, 'nothing stored');
  t.true((await metric(env.app.metricsUrl, 'praxiskern_webhook_verification_failures_total', 'reason="bad_signature"'))! >= 2);
});

test.serial('inbound messages: matched to the patient by phone, stored encrypted, once per redelivery; unknown senders become prospects; the 24 h window allows free text', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const from = p.whatsapp.replace('+', '');
  const event = inboundEvent(PHONE_NUMBER_ID, { id: `wamid.in${Date.now()}`, from, text: 'Kann ich den Termin verschieben?' });
  for (let i = 0; i < 3; i++) t.is((await postWebhook(env.app.url, event, env.appSecret)).status, 200);
  await waitFor('webhooks applied', async () => Number((await env.owner('webhook_events').whereNull('processed_at').count({ n: '*' }))[0].n) === 0);
  const rows = await env.owner('inbound_messages').where({ patient_id: p.id });
  t.is(rows.length, 1, 'a redelivered event is stored once');
  t.is(rows[0].kind, 'text');
  t.false(rows[0].content.toString('latin1').includes('Termin'), 'content encrypted');
  const raw = await env.owner('webhook_events').orderBy('id', 'desc').first();
  t.is(raw.body.length, 0, 'raw body erased after processing');

  const voice = inboundEvent(PHONE_NUMBER_ID, { id: `wamid.v${Date.now()}`, from: '4915112345678', name: 'Neue Anfrage', type: 'audio', media: { id: 'media1', mime_type: 'audio/ogg; codecs=opus', voice: true } });
  t.is((await postWebhook(env.app.url, voice, env.appSecret)).status, 200);
  const prospectMsg = await waitFor('prospect message', async () => env.owner('inbound_messages').whereNotNull('prospect_id').where({ kind: 'voice' }).first());
  t.truthy(prospectMsg.prospect_id);
  t.is(Number((await env.owner('prospects').count({ n: '*' }))[0].n), 1);

  // inside 24 h of the patient's message: the next message is free text, not a template
  const res = await env.admin.post(`/api/v1/patients/${p.id}/messages`, { purpose: 'document_request', channel: 'whatsapp', variables: { documentName: 'Befund' } });
  await waitFor('sent', async () => ((await messageOf(env.admin, p.id, res.body.message.id))?.status === 'sent' ? true : undefined));
  const [req] = requestsFor(res.body.message.id);
  t.is(req.body.type, 'text');
  t.is(req.body.text.body, 'Bitte senden Sie Befund.');
});

test.serial('the circuit breaker opens while the provider fails and closes after it recovers; nothing is lost', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  env.fake.mode = 'down';
  const ids: string[] = [];
  for (let i = 0; i < 6; i++) ids.push((await env.admin.post(`/api/v1/patients/${p.id}/messages`, { purpose: 'document_request', channel: 'whatsapp', variables: { documentName: `Dok ${i}` } })).body.message.id);
  const metricsUrl = env.app.worker.metricsUrl;
  await waitFor('breaker open', async () => (await metric(metricsUrl, 'praxiskern_messaging_breaker_state', 'provider="meta"')) === 1);
  const failedCalls = env.fake.requests.filter((r) => r.status === 503).length;
  t.true(failedCalls >= 3);
  const during = await messageOf(env.admin, p.id, ids[0]);
  t.true(during!.status === 'sending' || during!.status === 'queued');
  t.truthy(during!.lastError);
  t.log(`${failedCalls} calls answered 503 before the breaker opened`);
  const scrape = await (await fetch(metricsUrl)).text();
  const depth = ((await metric(metricsUrl, 'praxiskern_outbox_depth', 'status="sending"', scrape)) ?? 0) + ((await metric(metricsUrl, 'praxiskern_outbox_depth', 'status="queued"', scrape)) ?? 0);
  t.true(depth >= ids.length, `outbox depth ${depth} while the provider is down`);
  t.true((await metric(metricsUrl, 'praxiskern_outbox_oldest_due_age_seconds'))! >= 0);
  env.fake.mode = 'ok';
  await waitFor('all sent', async () => {
    const all = await Promise.all(ids.map((id) => messageOf(env.admin, p.id, id)));
    return all.every((m) => m?.status === 'sent') ? true : undefined;
  }, 30_000);
  t.is(await metric(metricsUrl, 'praxiskern_messaging_breaker_state', 'provider="meta"'), 0, 'closed again');
  for (const id of ids) t.is(requestsFor(id).filter((r) => r.status === 200).length, 1, 'each sent exactly once');
  t.true((await metric(metricsUrl, 'praxiskern_messages_sent_total', 'channel="whatsapp",outcome="retry"'))! >= 3, 'retries counted');
  t.is(await metric(metricsUrl, 'praxiskern_outbox_depth', 'status="queued"'), 0, 'the queue drained');
});

test.serial('a refused message (4xx) fails with the provider error and is not retried', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  env.fake.mode = 'refuse';
  try {
    const res = await env.admin.post(`/api/v1/patients/${p.id}/messages`, { purpose: 'document_request', channel: 'whatsapp', variables: { documentName: 'X' } });
    const m = await waitFor('failed', async () => {
      const x = await messageOf(env.admin, p.id, res.body.message.id);
      return x?.status === 'failed' ? x : undefined;
    });
    t.regex(m.lastError!, /400.*Invalid parameter/);
    t.is(m.attempts, 1);
  } finally {
    env.fake.mode = 'ok';
  }
});

test.serial('360dialog: the same payload to /messages with the D360-API-KEY header', async (t) => {
  await enableChannels(env.admin, '360dialog');
  try {
    const p = await newPatient(env.admin, ['whatsapp_contact']);
    const res = await env.admin.post(`/api/v1/patients/${p.id}/messages`, reminder);
    await waitFor('sent', async () => ((await messageOf(env.admin, p.id, res.body.message.id))?.status === 'sent' ? true : undefined));
    const [req] = requestsFor(res.body.message.id);
    t.is(req.flavour, '360dialog');
    t.is(req.auth, env.fake.apiKey);
    t.is(req.body.type, 'template');
  } finally {
    await enableChannels(env.admin, 'meta');
  }
});

test.serial('360dialog webhooks: the registered X-Praxiskern-Webhook-Token authenticates status and inbound events; a wrong, missing or foreign token → 401, nothing stored; never for a Meta number', async (t) => {
  const count = async () => Number((await env.owner('webhook_events').count({ n: '*' }))[0].n);
  const token = randomBytes(24).toString('base64url');
  writeFileSync(path.join(env.secretsDir, env.organizationId, '360dialog-webhook-token'), `${token}\n`, { mode: 0o600 });
  // a second organization on 360dialog with a number and a token of its own
  const org2 = await newOrganization(env.app, `msg-d360-${Date.now()}`);
  const admin2 = await clientAs(env.app, org2, ['admin']);
  const otherNumber = '5647382910';
  const token2 = randomBytes(24).toString('base64url');
  mkdirSync(path.join(env.secretsDir, org2), { recursive: true });
  writeFileSync(path.join(env.secretsDir, org2, '360dialog-api-key'), env.fake.apiKey, { mode: 0o600 });
  writeFileSync(path.join(env.secretsDir, org2, '360dialog-webhook-token'), token2, { mode: 0o600 });
  await enableChannels(admin2, '360dialog', otherNumber);
  await enableChannels(env.admin, '360dialog');
  try {
    const p = await newPatient(env.admin, ['whatsapp_contact']);
    const res = await env.admin.post(`/api/v1/patients/${p.id}/messages`, reminder);
    t.is(res.status, 201, res.text);
    const id = res.body.message.id;
    await waitFor('sent', async () => ((await messageOf(env.admin, p.id, id))?.status === 'sent' ? true : undefined));
    const [req] = requestsFor(id);
    t.is(req.flavour, '360dialog');
    const delivered = statusEvent(PHONE_NUMBER_ID, [{ id: req.wamid!, status: 'delivered' }]);

    const before = await count();
    const failuresBefore = (await metric(env.app.metricsUrl, 'praxiskern_webhook_verification_failures_total', 'reason="bad_token"')) ?? 0;
    t.is((await postD360Webhook(env.app.url, delivered, 'wrong-token')).status, 401);
    t.is((await postD360Webhook(env.app.url, delivered, '')).status, 401, 'an empty header is no token (and no signature either)');
    t.is((await postD360Webhook(env.app.url, delivered, null)).status, 401, 'no token and no signature');
    t.is((await postD360Webhook(env.app.url, delivered, token2)).status, 401, "another organization's token");
    t.is((await postD360Webhook(env.app.url, statusEvent(otherNumber, [{ id: req.wamid!, status: 'read' }]), token)).status, 401, "the token does not open another organization's number");
    t.is((await postD360Webhook(env.app.url, { object: 'whatsapp_business_account', entry: [] }, token)).status, 401, 'a body naming no number');
    t.is((await postD360Webhook(env.app.url, undefined, token, { raw: 'not json {' })).status, 401);
    const both = JSON.stringify(delivered);
    t.is((await postD360Webhook(env.app.url, undefined, token, { raw: both, signature: sign(both, env.appSecret) })).status, 401, 'token and signature at once');
    t.is(await count(), before, 'nothing stored');
    t.true(((await metric(env.app.metricsUrl, 'praxiskern_webhook_verification_failures_total', 'reason="bad_token"')) ?? 0) >= failuresBefore + 5);
    t.is((await messageOf(env.admin, p.id, id))?.status, 'sent');

    const ok = await postD360Webhook(env.app.url, delivered, token);
    t.is(ok.status, 200, ok.body);
    t.true(await waitFor('delivered', async () => ((await messageOf(env.admin, p.id, id))?.status === 'delivered' ? true : undefined)));
    const inbound = inboundEvent(PHONE_NUMBER_ID, { id: `wamid.d360in${Date.now()}`, from: p.whatsapp.replace('+', ''), text: 'Danke, bis Mittwoch' });
    t.is((await postD360Webhook(env.app.url, inbound, token)).status, 200);
    const rows = await waitFor('inbound stored', async () => {
      const r = await env.owner('inbound_messages').where({ patient_id: p.id });
      return r.length ? r : undefined;
    });
    t.is(rows.length, 1);
    t.is(rows[0].organization_id, env.organizationId);
    t.is(rows[0].kind, 'text');
  } finally {
    await enableChannels(env.admin, 'meta');
  }
  // back on Meta: the token no longer authenticates this number (no downgrade); the signature does
  const before = await count();
  const event = inboundEvent(PHONE_NUMBER_ID, { id: `wamid.meta${Date.now()}`, from: '491609999998', text: 'hallo' });
  t.is((await postD360Webhook(env.app.url, event, token)).status, 401);
  t.is((await postWebhook(env.app.url, event, env.appSecret, { signature: null })).status, 401);
  t.is(await count(), before, 'nothing stored');
  t.is((await postWebhook(env.app.url, event, env.appSecret)).status, 200);
});

test.serial('bad input: a 4xx naming the field', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const unknownVar = await env.admin.post(`/api/v1/patients/${p.id}/messages`, { ...reminder, variables: { diagnosisCode: 'X' } });
  t.is(unknownVar.status, 400);
  t.is(unknownVar.body.details[0].field, 'body.variables.diagnosisCode');
  t.regex(unknownVar.body.details[0].message, /unknown variable "diagnosisCode"/);
  const tpl = await env.admin.put('/api/v1/messaging/templates', { purpose: 'aftercare_step', language: 'de', body: 'Hallo {{vorname}}' });
  t.is(tpl.status, 400);
  t.is(tpl.body.details[0].field, 'body.body');
  t.regex(tpl.body.details[0].message, /vorname/);
  const phone = await env.admin.put('/api/v1/messaging/channels', { email: { enabled: false }, whatsapp: { enabled: true, provider: 'meta', phoneNumberId: PHONE_NUMBER_ID, displayNumber: '+49 12' } });
  t.is(phone.status, 400);
  t.is(phone.body.details[0].field, 'body.whatsapp.displayNumber');
  const numberId = await env.admin.put('/api/v1/messaging/channels', { email: { enabled: false }, whatsapp: { enabled: true, provider: 'meta', phoneNumberId: '12ab' } });
  t.is(numberId.body.details[0].field, 'body.whatsapp.phoneNumberId');
  const nul = await env.admin.post(`/api/v1/patients/${p.id}/messages`, { ...reminder, variables: { appointmentDate: 'a\u0000b' } });
  t.is(nul.status, 400);
  t.regex(JSON.stringify(nul.body.details), /variables/);
  const purpose = await env.admin.post(`/api/v1/patients/${p.id}/messages`, { ...reminder, purpose: 'marketing' });
  t.is(purpose.body.details[0].field, 'body.purpose');
});

test.serial('health data in a template needs a reason, which is audited', async (t) => {
  const body = { purpose: 'aftercare_step', language: 'de', body: 'Nachsorge nach {{treatment}}: {{stepTitle}}' };
  const refused = await env.admin.put('/api/v1/messaging/templates', body);
  t.is(refused.status, 400);
  t.is(refused.body.details[0].field, 'body.healthDataReason');
  const ok = await env.admin.put('/api/v1/messaging/templates', { ...body, healthDataReason: 'Patienten wünschen die Nennung der Behandlung' });
  t.is(ok.status, 200);
  t.true(ok.body.template.usesHealthData);
  t.truthy(ok.body.template.healthDataEnabledAt);
  const entry = await env.owner('audit_log').where({ action: 'messaging.template.health_data_enabled' }).first();
  t.is(entry.details.reason, 'Patienten wünschen die Nennung der Behandlung');
});

test.serial('a second organization sees none of the messages (RLS)', async (t) => {
  const org = await newOrganization(env.app, `msg-rls-${Date.now()}`);
  const other = await clientAs(env.app, org, ['admin']);
  const outbox = await other.get('/api/v1/messaging/outbox');
  t.is(outbox.status, 200);
  t.is(outbox.body.total, 0);
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  t.is((await other.get(`/api/v1/patients/${p.id}/messages`)).status, 404);
  t.is((await other.post(`/api/v1/patients/${p.id}/messages`, reminder)).status, 404);
  // the app role under the other organization's scope sees no row of the first
  const appDb = createDb(env.app.db.appUrl, 1);
  try {
    const rows = await appDb.transaction(async (trx): Promise<{ id: string }[]> => {
      await trx.raw("select set_config('app.org_id', ?, true)", [org]);
      return trx('outbox_messages').select('id');
    });
    t.is(rows.length, 0);
  } finally {
    await appDb.destroy();
  }
  // the same WhatsApp number cannot be claimed by another organization
  const steal = await other.put('/api/v1/messaging/channels', { email: { enabled: false }, whatsapp: { enabled: true, provider: 'meta', phoneNumberId: PHONE_NUMBER_ID } });
  t.is(steal.status, 409);
});

test.serial('anonymization after the retention period removes the patient\'s messages and inbound messages', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const queued = await env.admin.post(`/api/v1/patients/${p.id}/messages`, { ...reminder, sendAt: new Date(Date.now() + 3_600_000).toISOString() });
  t.is(queued.body.message.status, 'queued');
  const event = inboundEvent(PHONE_NUMBER_ID, { id: `wamid.anon${Date.now()}`, from: p.whatsapp.replace('+', ''), text: 'Hallo' });
  t.is((await postWebhook(env.app.url, event, env.appSecret)).status, 200);
  await waitFor('inbound stored', async () => env.owner('inbound_messages').where({ patient_id: p.id }).first());
  const { rows } = await withScope(env.app.services.db, { organizationId: env.organizationId }, (trx) => trx.raw('select anonymize_patient(?) as done', [p.id]));
  t.true(rows[0].done);
  t.is(Number((await env.owner('outbox_messages').where({ patient_id: p.id }).count({ n: '*' }))[0].n), 0);
  t.is(Number((await env.owner('inbound_messages').where({ patient_id: p.id }).count({ n: '*' }))[0].n), 0);
});

test.serial('enqueueMessage for other modules: written in the caller\'s transaction, moved by its dedup key, cancelled before it is sent', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const scope = { organizationId: env.organizationId, userId: null };
  const key = `appointment:${crypto.randomUUID()}:reminder:24h`;
  const at = (h: number) => new Date(Date.now() + h * 3_600_000);
  // rolled back with the change that caused it: no message
  await t.throwsAsync(withScope(env.app.services.db, scope, async (trx) => {
    await enqueueMessage(env.app.services, trx, env.organizationId, null, { patientId: p.id, purpose: 'appointment_reminder', channel: 'whatsapp', sendAt: at(24), dedupKey: key, variables: { appointmentDate: '01.01.2027' } });
    throw new Error('the appointment could not be booked');
  }));
  t.is(Number((await env.owner('outbox_messages').where({ dedup_key: key }).count({ n: '*' }))[0].n), 0);
  const first = await withScope(env.app.services.db, scope, (trx) =>
    enqueueMessage(env.app.services, trx, env.organizationId, null, { patientId: p.id, purpose: 'appointment_reminder', channel: 'whatsapp', sendAt: at(24), dedupKey: key, variables: { appointmentDate: '01.01.2027' } }));
  t.is(first.status, 'queued');
  // the appointment moves: the same key moves the reminder, no second message
  const moved = await withScope(env.app.services.db, scope, (trx) =>
    enqueueMessage(env.app.services, trx, env.organizationId, null, { patientId: p.id, purpose: 'appointment_reminder', channel: 'whatsapp', sendAt: at(48), dedupKey: key, variables: { appointmentDate: '02.01.2027' } }));
  t.is(moved.id, first.id);
  t.true(moved.send_at.getTime() > first.send_at.getTime());
  t.is(Number((await env.owner('outbox_messages').where({ dedup_key: key }).count({ n: '*' }))[0].n), 1);
  // cancelled appointment: nothing goes out
  t.is(await withScope(env.app.services.db, scope, (trx) => cancelQueued(trx, [key])), 1);
  t.is((await env.owner('outbox_messages').where({ id: first.id }).first()).status, 'cancelled');
  // unknown variable from a module: 400 naming it
  const err = await t.throwsAsync(withScope(env.app.services.db, scope, (trx) =>
    enqueueMessage(env.app.services, trx, env.organizationId, null, { patientId: p.id, purpose: 'appointment_reminder', channel: 'whatsapp', variables: { roomNumber: '3' } })));
  t.regex(JSON.stringify((err as AppError).details), /variables\.roomNumber/);
});

test.serial('SMTP: the relay\'s certificate is verified and STARTTLS is required', async (t) => {
  const base = env.app.config.messaging;
  const mail = { from: 'praxis@example.org', to: 'someone@example.org', subject: 'x', text: 'y', id: crypto.randomUUID() };
  const untrusted = { ...base, smtp: { ...base.smtp, caFile: undefined } };
  const e1 = await t.throwsAsync(sendMail(untrusted, mail));
  t.regex(e1!.message, /certificate/i);
  const plain = await startTestSmtp({ starttls: false });
  try {
    const e2 = await t.throwsAsync(sendMail({ ...base, smtp: { ...base.smtp, port: plain.port, passwordFile: plain.passwordFile, caFile: plain.caFile } }, mail));
    t.regex(e2!.message, /STARTTLS/i);
    t.is(plain.mails.length, 0, 'nothing sent in clear text');
  } finally {
    await plain.close();
    closeTransports();
  }
  t.is(env.smtp.mails.filter((m) => m.data.includes(mail.id)).length, 0);
});

test.serial('processed webhook receipts are pruned after 7 days and seen ids after 30; a redelivery inside 30 days is still ignored', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const event = inboundEvent(PHONE_NUMBER_ID, { id: `wamid.prune${Date.now()}`, from: p.whatsapp.replace('+', ''), text: 'Alt' });
  t.is((await postWebhook(env.app.url, event, env.appSecret)).status, 200);
  await waitFor('stored', async () => env.owner('inbound_messages').where({ patient_id: p.id }).first());
  // every receipt processed so far (earlier tests' too) is backdated; a status callback of an earlier test that
  // still arrives afterwards is not one of them
  await waitFor('all processed', async () => Number((await env.owner('webhook_events').whereNull('processed_at').count({ n: '*' }))[0].n) === 0);
  const aged: { id: string }[] = await env.owner('webhook_events').whereNotNull('processed_at').update({ processed_at: env.owner.raw("now() - interval '8 days'") }, ['id']);
  t.true(aged.length > 0);
  await env.owner('webhook_seen').update({ seen_at: env.owner.raw("now() - interval '20 days'") });
  const pruned = await new WebhookProcessor(env.app.worker.services).prune(true);
  t.true(pruned!.events > 0);
  t.is(pruned!.seen, 0);
  t.is(Number((await env.owner('webhook_events').whereIn('id', aged.map((r) => r.id)).count({ n: '*' }))[0].n), 0, 'every receipt processed over 7 days ago is gone');
  t.is((await postWebhook(env.app.url, event, env.appSecret)).status, 200);
  await waitFor('applied', async () => Number((await env.owner('webhook_events').whereNull('processed_at').count({ n: '*' }))[0].n) === 0);
  t.is(Number((await env.owner('inbound_messages').where({ patient_id: p.id }).count({ n: '*' }))[0].n), 1, 'still once');
  await env.owner('webhook_seen').update({ seen_at: env.owner.raw("now() - interval '31 days'") });
  t.true((await new WebhookProcessor(env.app.worker.services).prune(true))!.seen > 0);
});
