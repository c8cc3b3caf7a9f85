// Bad input gets a 4xx naming the field and stores nothing; uploads are sniffed, size-limited,
// stripped of EXIF/GPS and stored encrypted; views and downloads are audited.
import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createDb } from '../../app/api/src/db/connection.ts';
import { startTestApp, setupInstance, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { exifGpsSegment, jpegWithMetadata, multipart, pngWithMetadata, realJpeg, samplePatient } from './patients-fixtures.ts';

const LIMIT = 100_000;
let app: TestApp;
let admin: Client;

test.before(async () => {
  process.env.PRAXISKERN_UPLOAD_MAX_BYTES = String(LIMIT);
  app = await startTestApp();
  ({ client: admin } = await setupInstance(app));
});
test.after.always(async () => {
  await app?.stop();
  await app?.db.drop();
});

async function count(sql: string): Promise<number> {
  const owner = createDb(app.db.ownerUrl, 1);
  try {
    return Number((await owner.raw(sql)).rows[0].n);
  } finally {
    await owner.destroy();
  }
}
const newPatient = async () => (await admin.post('/api/v1/patients', samplePatient())).body.patient.id as string;
const thisYear = new Date().getUTCFullYear();

test.serial('invalid master data is a 400 naming the field, and no patient is stored', async (t) => {
  const before = await count('select count(*) as n from patients');
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ birthDate: '2023-02-30' }, 'body.birthDate'],
    [{ birthDate: '17.03.1984' }, 'body.birthDate'],
    [{ birthDate: `${thisYear + 1}-01-01` }, 'body.birthDate'],
    [{ birthDate: '1850-01-01' }, 'body.birthDate'],
    [{ phone: '0171 12' }, 'body.phone'],
    [{ phone: '030 12' }, 'body.phone'],
    [{ phone: '+49 abc' }, 'body.phone'],
    [{ whatsapp: '+12' }, 'body.whatsapp'],
    [{ email: 'someone@' }, 'body.email'],
    [{ sex: 'x' }, 'body.sex'],
    [{ familyName: '1234' }, 'body.familyName'],
    [{ country: 'Germany' }, 'body.country'],
    [{ address: { street: 'A', postalCode: '!', city: 'B' } }, 'body.address.postalCode'],
    [{ nickname: 'Zyzzy' }, 'body.nickname'],
  ];
  for (const [patch, field] of cases) {
    const res = await admin.post('/api/v1/patients', samplePatient(patch));
    t.is(res.status, 400, `${JSON.stringify(patch)}: ${res.text}`);
    t.true(res.body.details.some((d: { field: string }) => d.field === field), `${JSON.stringify(patch)} names ${field}: ${res.text}`);
  }
  const notJson = await admin.request('POST', '/api/v1/patients', 'givenName=x', { 'content-type': 'application/x-www-form-urlencoded' });
  t.is(notJson.status, 415);
  t.is(await count('select count(*) as n from patients'), before);
});

test.serial('German national phone numbers are accepted and stored in E.164; refusals carry a translatable code', async (t) => {
  const res = await admin.post('/api/v1/patients', samplePatient({ phone: '0171 1234567', whatsapp: '030/1234567' }));
  t.is(res.status, 201, res.text);
  t.is(res.body.patient.phone, '+491711234567');
  t.is(res.body.patient.whatsapp, '+49301234567');
  const bad = await admin.post('/api/v1/patients', samplePatient({ phone: '0171 12', birthDate: `${thisYear + 1}-01-01`, sex: 'x' }));
  t.is(bad.status, 400);
  const codes = Object.fromEntries(bad.body.details.map((d: { field: string; code: string }) => [d.field, d.code]));
  t.like(codes, { 'body.phone': 'invalid_phone', 'body.birthDate': 'future_date', 'body.sex': 'invalid_option' });
});

test.serial('unknown or mistyped questionnaire answers and malformed record entries are 400s naming the field', async (t) => {
  const id = await newPatient();
  const base = `/api/v1/patients/${id}`;
  const cases: Array<[string, unknown, string]> = [
    ['anamnesis', { answers: { smoker: false, blood_thinners: false, hair_status: 'norwood_2', shoe_size: 44 } }, 'body.answers.shoe_size'],
    ['anamnesis', { answers: { smoker: 'yes', blood_thinners: false, hair_status: 'norwood_2' } }, 'body.answers.smoker'],
    ['anamnesis', { answers: { smoker: false, blood_thinners: false } }, 'body.answers.hair_status'],
    ['anamnesis', { answers: { smoker: false, cigarettes_per_day: 5, blood_thinners: false, hair_status: 'norwood_2' } }, 'body.answers.cigarettes_per_day'],
    ['anamnesis', { answers: { smoker: false, blood_thinners: false, hair_status: 'norwood_9' } }, 'body.answers.hair_status'],
    ['anamnesis', { questionnaireKey: 'anamnesis', questionnaireVersion: 99, answers: {} }, ''],
    ['diagnoses', { code: 'XYZ', text: 'x' }, 'body.code'],
    ['diagnoses', { code: 'L64.9', text: 'x', supersedesId: '00000000-0000-4000-8000-000000000000' }, 'body.correctionReason'],
    ['treatments', { performedOn: `${thisYear + 1}-01-01`, type: 'x', description: 'y' }, 'body.performedOn'],
    ['treatments', { performedOn: '2021-13-01', type: 'x', description: 'y' }, 'body.performedOn'],
    ['plans', { title: 'x', status: 'maybe' }, 'body.status'],
    ['consents', { purpose: 'health_data', action: 'granted', textVersion: '', channel: 'paper' }, 'body.textVersion'],
  ];
  for (const [seg, body, field] of cases) {
    const res = await admin.post(`${base}/${seg}`, body);
    if (field) {
      t.is(res.status, 400, `${seg} ${JSON.stringify(body)}: ${res.text}`);
      t.true(res.body.details?.some((d: { field: string }) => d.field === field), `${seg} names ${field}: ${res.text}`);
    } else t.is(res.status, 404, res.text);
  }
  t.is(await count(`select count(*) as n from record_entries where patient_id = '${id}'`), 0);
  t.is(await count(`select count(*) as n from consents where patient_id = '${id}'`), 0);
});

const upload = (id: string, m: { body: Buffer; contentType: string }) => admin.request('POST', `/api/v1/patients/${id}/documents`, m.body, { 'content-type': m.contentType });

async function blobCount(): Promise<number> {
  const root = path.join(app.dataDir, 'blobs');
  let n = 0;
  for (const shard of await readdir(root).catch(() => [])) n += (await readdir(path.join(root, shard))).length;
  return n;
}

test.serial('disguised, oversized, truncated or incomplete uploads are 4xx naming the field and store nothing', async (t) => {
  const id = await newPatient();
  const blobsBefore = await blobCount();
  const exe = Buffer.concat([Buffer.from('MZ\x90\x00', 'latin1'), Buffer.alloc(2000, 7)]);
  const disguised = await upload(id, multipart({ category: 'front' }, { filename: 'photo.jpg', type: 'image/jpeg', data: exe }));
  t.is(disguised.status, 415, disguised.text);
  t.is(disguised.body.details[0].field, 'file');
  t.regex(disguised.body.message, /Windows executable/);
  const broken = await upload(id, multipart({ category: 'front' }, { filename: 'x.jpg', data: Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0x40, 0x00, 1, 2]) }));
  t.is(broken.status, 415);
  t.is(broken.body.details[0].field, 'file');
  const big = await upload(id, multipart({ category: 'front' }, { filename: 'big.jpg', data: Buffer.concat([jpegWithMetadata('x'), Buffer.alloc(LIMIT * 2)]) }));
  t.is(big.status, 413, big.text);
  t.is(big.body.details[0].field, 'file');
  const full = multipart({ category: 'front' }, { filename: 'a.jpg', data: jpegWithMetadata('x') });
  const truncated = await upload(id, { body: full.body.subarray(0, full.body.length - 30), contentType: full.contentType });
  t.is(truncated.status, 400, truncated.text);
  t.is(truncated.body.details[0].field, 'body');
  const noFile = await upload(id, multipart({ category: 'front' }));
  t.is(noFile.status, 400);
  t.is(noFile.body.details[0].field, 'file');
  const badCategory = await upload(id, multipart({ category: 'selfie' }, { filename: 'a.jpg', data: jpegWithMetadata('x') }));
  t.is(badCategory.status, 400);
  t.is(badCategory.body.details[0].field, 'category');
  const noBoundary = await admin.request('POST', `/api/v1/patients/${id}/documents`, full.body, { 'content-type': 'multipart/form-data' });
  t.is(noBoundary.status, 415);
  t.is(await count(`select count(*) as n from documents where patient_id = '${id}'`), 0);
  t.is(await blobCount(), blobsBefore, 'no blob was left behind');
});

test.serial('photos lose EXIF/GPS, XMP, IPTC and text chunks; blobs are encrypted; views and downloads are audited', async (t) => {
  const id = await newPatient();
  const secret = 'GPS-48.1372N-11.5756E';
  const jpeg = await upload(id, multipart({ category: 'donor_area', note: 'Spenderbereich' }, { filename: 'IMG_0001.jpg', data: jpegWithMetadata(secret) }));
  t.is(jpeg.status, 201, jpeg.text);
  t.deepEqual(jpeg.body.document.metadataRemoved.sort(), ['APP1', 'APP13', 'COM']);
  const png = await upload(id, multipart({ category: 'close_up' }, { filename: 'scan.png', type: 'application/octet-stream', data: pngWithMetadata(secret) }));
  t.is(png.status, 201, png.text);
  t.is(png.body.document.contentType, 'image/png', 'the type comes from the content, not the declared type');
  t.deepEqual(png.body.document.metadataRemoved.sort(), ['eXIf', 'tEXt']);
  for (const doc of [jpeg.body.document, png.body.document]) {
    const view = await admin.get(doc.contentUrl);
    t.is(view.status, 200);
    t.is(view.headers.get('content-type'), doc.contentType);
    t.regex(view.headers.get('content-disposition') ?? '', /^inline/);
    const bytes = Buffer.from(await (await fetch(app.url + doc.contentUrl, { headers: { cookie: admin.cookieHeader() } })).arrayBuffer());
    t.false(bytes.toString('latin1').includes(secret));
    t.true(bytes.toString('latin1').includes(doc.contentType === 'image/jpeg' ? 'PIXELDATA' : 'IDAT'), 'the image data is kept');
  }
  const dl = await admin.get(`${jpeg.body.document.contentUrl}?download=1`);
  t.regex(dl.headers.get('content-disposition') ?? '', /^attachment; filename="donor_area-/);
  const root = path.join(app.dataDir, 'blobs');
  for (const shard of await readdir(root)) for (const f of await readdir(path.join(root, shard))) {
    const raw = (await readFile(path.join(root, shard, f))).toString('latin1');
    t.false(raw.includes('PIXELDATA') || raw.includes('IDAT'), 'blobs on disk are ciphertext');
  }
  t.is(await count(`select count(*) as n from audit_log where object_id = '${id}' and action = 'document.view'`), 4, 'two views of each of two documents');
  t.is(await count(`select count(*) as n from audit_log where object_id = '${id}' and action = 'document.download'`), 1);
  const list = await admin.get(`/api/v1/patients/${id}/documents`);
  t.deepEqual(list.body.documents.map((d: { filename: string }) => d.filename), ['IMG_0001.jpg', 'scan.png']);
  const del = await admin.request('DELETE', `/api/v1/patients/${id}/documents/${png.body.document.id}`, { reason: 'falscher Patient' });
  t.is(del.status, 200);
  t.deepEqual((await admin.get(`/api/v1/patients/${id}/documents`)).body.documents.map((d: { filename: string }) => d.filename), ['IMG_0001.jpg'], 'a removed document leaves the list');
});

test.serial('a JPEG with a second image carrying GPS appended is stored without it; empty image containers are 400 on file', async (t) => {
  const id = await newPatient();
  const multi = Buffer.concat([realJpeg([exifGpsSegment('FIRST-GPS')]), realJpeg([exifGpsSegment('SECOND-GPS-52.5200N')])]);
  const res = await upload(id, multipart({ category: 'close_up' }, { filename: 'PXL_MP.jpg', data: multi }));
  t.is(res.status, 201, res.text);
  t.deepEqual(res.body.document.metadataRemoved.sort(), ['APP1', 'trailing data']);
  const stored = Buffer.from(await (await fetch(app.url + res.body.document.contentUrl, { headers: { cookie: admin.cookieHeader() } })).arrayBuffer());
  t.false(stored.toString('latin1').includes('GPS'), 'no GPS from either image');
  t.deepEqual(stored, realJpeg());

  const blobsBefore = await count(`select count(*) as n from documents where patient_id = '${id}'`);
  const empty = {
    jpeg: Buffer.concat([Buffer.from([0xff, 0xd8]), exifGpsSegment('x'), Buffer.from([0xff, 0xd9])]),
    // signature + IHDR + IEND of a real PNG, without any IDAT
    png: Buffer.concat([pngWithMetadata('x').subarray(0, 33), pngWithMetadata('x').subarray(-12)]),
    webp: Buffer.from('RIFF\x04\x00\x00\x00WEBP', 'latin1'),
  };
  for (const [kind, data] of Object.entries(empty)) {
    const r = await upload(id, multipart({ category: 'front' }, { filename: `empty.${kind}`, data }));
    t.is(r.status, 400, `${kind}: ${r.text}`);
    t.is(r.body.details?.[0]?.field, 'file', kind);
    t.regex(r.body.details?.[0]?.message ?? '', /no image data/, kind);
  }
  t.is(await count(`select count(*) as n from documents where patient_id = '${id}'`), blobsBefore, 'nothing stored');
});
