// Inbound WhatsApp media against real parts: PostgreSQL, the worker, the fake Cloud API on loopback
// serving the media endpoints, signed webhooks. The worker downloads an image, a voice message and
// a document, checks sha256 and size, stores them encrypted under the patient's key; staff stream
// them back (audited, inbox.read), finance and other organizations cannot; too large → not stored;
// wrong digest → refused; provider down → retried; a prospect's media move to the new patient;
// erasure and the anonymization remove the blobs.
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { inboundEvent, postWebhook } from '../helpers/fake-whatsapp.ts';
import type { Client } from '../helpers/http-client.ts';
import { clientAs, newOrganization } from './patients-fixtures.ts';
import { enableChannels, newPatient, PHONE_NUMBER_ID, startMessagingEnv, waitFor, type MessagingEnv } from './messaging-fixtures.ts';

const MAX = 64 * 1024;
let env: MessagingEnv;
let seq = 0;

test.before(async () => {
  env = await startMessagingEnv({ PRAXISKERN_MEDIA_MAX_BYTES: String(MAX) });
  await enableChannels(env.admin);
});
test.after.always(async () => {
  await env?.stop();
});

// A recognisable payload: a JPEG header and a marker that must never appear in clear at rest.
const jpeg = (marker: string) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(`JFIF-${marker}-`), randomBytes(2000), Buffer.from([0xff, 0xd9])]);
const ogg = (marker: string) => Buffer.concat([Buffer.from('OggS'), Buffer.from(`opus-${marker}-`), randomBytes(3000)]);

async function inbound(from: string, type: string, media: Record<string, unknown>) {
  const id = `wamid.media${Date.now()}${seq++}`;
  const res = await postWebhook(env.app.url, inboundEvent(PHONE_NUMBER_ID, { id, from, type, media }), env.appSecret);
  if (res.status !== 200) throw new Error(`webhook ${res.status}`);
  return id;
}

const rowsOf = (col: 'patient_id' | 'prospect_id', id: string) => env.owner('inbound_messages').where({ [col]: id }).orderBy('stored_at');
async function settled(col: 'patient_id' | 'prospect_id', id: string, n: number) {
  return waitFor(`${n} media settled`, async () => {
    const rows = await rowsOf(col, id);
    return rows.length === n && rows.every((r) => r.media_state && r.media_state !== 'pending') ? rows : undefined;
  });
}
const bytes = async (client: Client, url: string) => {
  const res = await fetch(env.app.url + url, { headers: { cookie: client.cookieHeader() } });
  return { status: res.status, headers: res.headers, data: Buffer.from(await res.arrayBuffer()) };
};
function blobFiles(): Buffer[] {
  const dir = path.join(env.app.dataDir, 'blobs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((s) => readdirSync(path.join(dir, s)).map((f) => readFileSync(path.join(dir, s, f))));
}
const blobExists = (id: string) => existsSync(path.join(env.app.dataDir, 'blobs', id.slice(0, 2), id));

test.serial('an inbound image and voice message are downloaded, sha256-checked, stored encrypted and streamed back identical (audited); finance 403, another organization 404', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const from = p.whatsapp.replace('+', '');
  const marker = randomBytes(8).toString('hex');
  const image = jpeg(marker);
  const voice = ogg(marker);
  env.fake.media.set(`img-${marker}`, { data: image, mimeType: 'image/jpeg' });
  env.fake.media.set(`voice-${marker}`, { data: voice, mimeType: 'audio/ogg' });
  const started = Date.now();
  await inbound(from, 'image', { id: `img-${marker}`, mime_type: 'image/jpeg', sha256: createHash('sha256').update(image).digest('base64'), caption: 'Die Narbe' });
  await inbound(from, 'audio', { id: `voice-${marker}`, mime_type: 'audio/ogg; codecs=opus', voice: true });
  const rows = await settled('patient_id', p.id, 2);
  t.log(`webhook → both media stored: ${Date.now() - started} ms`);
  t.deepEqual(rows.map((r) => r.media_state), ['stored', 'stored']);
  t.deepEqual(rows.map((r) => Number(r.media_size)), [image.length, voice.length]);
  const info = env.fake.mediaRequests.filter((r) => r.id.endsWith(marker));
  t.true(info.some((r) => r.flavour === 'meta' && r.what === 'info' && r.status === 200));
  t.true(info.some((r) => r.what === 'data' && r.status === 200));

  // at rest: neither the blob files nor the database rows hold the bytes or the marker
  const files = blobFiles();
  t.true(files.length >= 2);
  for (const f of files) {
    t.false(f.includes(Buffer.from(marker)), 'no plaintext marker in a blob');
    t.false(f.includes(image.subarray(20, 60)), 'no plaintext image bytes in a blob');
  }
  const dump = JSON.stringify(await env.owner('inbound_messages').where({ patient_id: p.id }).select('*'));
  t.false(dump.includes(marker));
  t.false(dump.includes(Buffer.from(marker).toString('hex')));

  const view = await env.admin.get(`/api/v1/inbox/patients/${p.id}`);
  t.is(view.status, 200);
  const [img, vc] = view.body.messages;
  t.is(img.kind, 'image');
  t.is(img.media.state, 'stored');
  t.is(img.media.mimeType, 'image/jpeg');
  t.is(img.media.sizeBytes, image.length);
  t.is(vc.kind, 'voice');
  t.is(vc.media.mimeType, 'audio/ogg');
  const gotImage = await bytes(env.admin, img.media.url);
  t.is(gotImage.status, 200);
  t.true(gotImage.data.equals(image), 'the image comes back byte for byte');
  t.is(gotImage.headers.get('content-type'), 'image/jpeg');
  t.is(gotImage.headers.get('cache-control'), 'no-store');
  t.regex(gotImage.headers.get('content-disposition') ?? '', /^inline/);
  const gotVoice = await bytes(env.admin, vc.media.url);
  t.true(gotVoice.data.equals(voice));
  t.is(gotVoice.headers.get('content-type'), 'audio/ogg');
  const audited = await env.owner('audit_log').where({ action: 'inbox.media', object_id: p.id });
  t.is(audited.length, 2, 'each read of a media item is audited');

  const finance = await clientAs(env.app, env.organizationId, ['finance']);
  t.is((await bytes(finance, img.media.url)).status, 403);
  const other = await newOrganization(env.app, `media-other-${marker}`);
  const stranger = await clientAs(env.app, other, ['admin']);
  const foreign = await bytes(stranger, img.media.url);
  t.is(foreign.status, 404, 'another organization does not see the media');
  t.false(foreign.data.includes(Buffer.from(marker)));
  t.is((await bytes(env.admin, `/api/v1/inbox/patients/${p.id}/media/${p.id}`)).status, 404, 'an unknown message id is 404');

  // erasure (Art. 17) removes the rows and the blobs
  const blobIds = rows.map((r) => r.media_blob_id as string);
  t.true(blobIds.every(blobExists));
  const erased = await env.admin.post(`/api/v1/patients/${p.id}/erasure`, { confirm: true });
  t.is(erased.status, 200, erased.text);
  t.false(blobIds.some(blobExists), 'the media blobs are deleted with the patient');
  t.is((await rowsOf('patient_id', p.id)).length, 0);
});

test.serial('a document is downloadable as an attachment and exported (Art. 15/20) with its content', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const marker = randomBytes(8).toString('hex');
  const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.from(`Befund-${marker}`), randomBytes(500)]);
  env.fake.media.set(`doc-${marker}`, { data: pdf, mimeType: 'application/pdf' });
  await inbound(p.whatsapp.replace('+', ''), 'document', { id: `doc-${marker}`, mime_type: 'application/pdf', filename: 'Befund.pdf' });
  await settled('patient_id', p.id, 1);
  const view = await env.admin.get(`/api/v1/inbox/patients/${p.id}`);
  const doc = view.body.messages[0];
  t.is(doc.media.filename, 'Befund.pdf');
  const got = await bytes(env.admin, doc.media.url);
  t.true(got.data.equals(pdf));
  t.regex(got.headers.get('content-disposition') ?? '', /^attachment/);
  t.is(got.headers.get('content-type'), 'application/pdf');
  const exp = await env.admin.get(`/api/v1/patients/${p.id}/export`);
  t.is(exp.status, 200, exp.text);
  const m = exp.body.inboundMessages[0];
  t.is(Buffer.from(m.mediaContentBase64, 'base64').toString('latin1'), pdf.toString('latin1'), 'the export carries the media decrypted');
});

test.serial('too large: announced or actually delivered → too_large, nothing stored, shown as such', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const from = p.whatsapp.replace('+', '');
  const marker = randomBytes(8).toString('hex');
  const before = blobFiles().length;
  env.fake.media.set(`big-${marker}`, { data: randomBytes(MAX + 1), mimeType: 'video/mp4' });
  env.fake.media.set(`liar-${marker}`, { data: randomBytes(MAX + 10), mimeType: 'image/jpeg', fileSize: 1000 });
  await inbound(from, 'video', { id: `big-${marker}`, mime_type: 'video/mp4' });
  await inbound(from, 'image', { id: `liar-${marker}`, mime_type: 'image/jpeg' });
  const rows = await settled('patient_id', p.id, 2);
  t.deepEqual(rows.map((r) => r.media_state), ['too_large', 'too_large']);
  t.true(rows.every((r) => r.media_blob_id === null));
  t.is(blobFiles().length, before, 'no blob was written');
  t.false(env.fake.mediaRequests.some((r) => r.id === `big-${marker}` && r.what === 'data'), 'an announced oversize is not even downloaded');
  const view = await env.admin.get(`/api/v1/inbox/patients/${p.id}`);
  t.deepEqual(view.body.messages.map((m: any) => [m.media.state, m.media.url]), [['too_large', null], ['too_large', null]]);
  t.is((await bytes(env.admin, `/api/v1/inbox/patients/${p.id}/media/${rows[0].id}`)).status, 404);
});

test.serial('a sha256 that does not match (from the provider or the webhook) → refused, nothing stored', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const from = p.whatsapp.replace('+', '');
  const marker = randomBytes(8).toString('hex');
  const before = blobFiles().length;
  env.fake.media.set(`bad-${marker}`, { data: jpeg(marker), mimeType: 'image/jpeg', sha256: createHash('sha256').update('something else').digest('hex') });
  env.fake.media.set(`bad2-${marker}`, { data: jpeg(marker), mimeType: 'image/jpeg' });
  await inbound(from, 'image', { id: `bad-${marker}`, mime_type: 'image/jpeg' });
  await inbound(from, 'image', { id: `bad2-${marker}`, mime_type: 'image/jpeg', sha256: createHash('sha256').update('tampered').digest('base64') });
  const rows = await settled('patient_id', p.id, 2);
  t.deepEqual(rows.map((r) => r.media_state), ['refused', 'refused']);
  t.true(rows.every((r) => r.media_blob_id === null));
  t.is(blobFiles().length, before);
});

test.serial('provider down → retried later with backoff; once it is back the media are stored', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const marker = randomBytes(8).toString('hex');
  const image = jpeg(marker);
  env.fake.media.set(`late-${marker}`, { data: image, mimeType: 'image/jpeg' });
  env.fake.mode = 'down';
  try {
    await inbound(p.whatsapp.replace('+', ''), 'image', { id: `late-${marker}`, mime_type: 'image/jpeg' });
    const pending = await waitFor('two failed attempts', async () => {
      const [r] = await rowsOf('patient_id', p.id);
      return r && r.media_attempts >= 2 ? r : undefined;
    });
    t.is(pending.media_state, 'pending', 'still pending: it will be retried');
    t.regex(pending.media_error, /503|circuit breaker/);
    t.true(new Date(pending.media_next_at).getTime() > 0);
    t.true(env.fake.mediaRequests.filter((r) => r.id === `late-${marker}` && r.status === 503).length >= 1);
  } finally {
    env.fake.mode = 'ok';
  }
  const [r] = await settled('patient_id', p.id, 1);
  t.is(r.media_state, 'stored');
  t.log(`attempts until stored: ${r.media_attempts}`);
  const view = await env.admin.get(`/api/v1/inbox/patients/${p.id}`);
  t.true((await bytes(env.admin, view.body.messages[0].media.url)).data.equals(image));
});

test.serial('360dialog: media fetched with D360-API-KEY through its base URL; a prospect\'s media are re-encrypted for the patient created from it', async (t) => {
  await enableChannels(env.admin, '360dialog');
  try {
    const marker = randomBytes(8).toString('hex');
    const from = `4917${String(Date.now()).slice(-8)}`;
    const voice = ogg(marker);
    env.fake.media.set(`pv-${marker}`, { data: voice, mimeType: 'audio/ogg' });
    await inbound(from, 'audio', { id: `pv-${marker}`, mime_type: 'audio/ogg; codecs=opus', voice: true });
    const prospect = await waitFor('prospect', async () => (await env.owner('inbound_messages').whereNotNull('prospect_id').where('media_state', 'stored').orderBy('stored_at', 'desc').first()));
    t.true(env.fake.mediaRequests.some((r) => r.id === `pv-${marker}` && r.flavour === '360dialog' && r.what === 'info' && r.status === 200));
    t.true(env.fake.mediaRequests.some((r) => r.id === `pv-${marker}` && r.what === 'data' && r.status === 200), 'the data came through the 360dialog base URL');
    const pv = await env.admin.get(`/api/v1/inbox/prospects/${prospect.prospect_id}`);
    t.true((await bytes(env.admin, pv.body.messages[0].media.url)).data.equals(voice));
    const oldBlob = prospect.media_blob_id as string;
    const created = await env.admin.post(`/api/v1/inbox/prospects/${prospect.prospect_id}/patient`, { givenName: 'Quirina', familyName: 'Vossberg', sex: 'female', birthDate: '1980-02-03', language: 'de', allowDuplicate: true });
    t.is(created.status, 201, created.text);
    const patientId = created.body.patient.id;
    const [moved] = await rowsOf('patient_id', patientId);
    t.not(moved.media_blob_id, oldBlob, 're-encrypted into a new blob');
    t.false(blobExists(oldBlob), 'the prospect-key blob is gone');
    const view = await env.admin.get(`/api/v1/inbox/patients/${patientId}`);
    t.true((await bytes(env.admin, view.body.messages[0].media.url)).data.equals(voice));
  } finally {
    await enableChannels(env.admin, 'meta');
  }
});

test.serial('anonymization after the retention period removes the media rows and blobs', async (t) => {
  const p = await newPatient(env.admin, ['whatsapp_contact']);
  const tr = await env.admin.post(`/api/v1/patients/${p.id}/treatments`, { performedOn: '2012-03-01', type: 'FUE', description: 'alt' });
  t.is(tr.status, 201, tr.text);
  const marker = randomBytes(8).toString('hex');
  env.fake.media.set(`anon-${marker}`, { data: jpeg(marker), mimeType: 'image/jpeg' });
  await inbound(p.whatsapp.replace('+', ''), 'image', { id: `anon-${marker}`, mime_type: 'image/jpeg' });
  const [row] = await settled('patient_id', p.id, 1);
  t.is(row.media_state, 'stored');
  t.true(blobExists(row.media_blob_id));
  const run = await env.admin.post('/api/v1/retention/run', { dryRun: false });
  t.is(run.status, 200, run.text);
  t.true(run.body.anonymized.includes(p.id));
  t.false(blobExists(row.media_blob_id), 'the media blob is deleted by the anonymization');
  t.is((await rowsOf('patient_id', p.id)).length, 0);
});
