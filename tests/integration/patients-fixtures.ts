// Shared fixtures of the patient-record tests (not a test file itself): users of any role in any
// organization, sample patients, multipart bodies, images with metadata, a logical database dump.
import { randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';
import pg from 'pg';
import { execFileSync } from 'node:child_process';
import { withScope } from '../../app/api/src/db/connection.ts';
import type { Role } from '../../app/api/src/core/permissions.ts';
import { createSession } from '../../app/api/src/modules/auth/session.service.ts';
import { insertUser } from '../../app/api/src/modules/users/user.repository.ts';
import { Client } from '../helpers/http-client.ts';
import { createDb } from '../../app/api/src/db/connection.ts';
import { patientKey, sealJson } from '../../app/api/src/modules/patients/patient.crypto.ts';
import type { TestApp } from '../helpers/app.ts';

/** A logged-in client for a new user with the given roles (a new organization when asked). */
export async function clientAs(app: TestApp, organizationId: string, roles: Role[]): Promise<Client & { userId: string }> {
  const userId = randomUUID();
  const issued = await withScope(app.services.db, { organizationId, userId }, async (trx) => {
    await insertUser(trx, { id: userId, organization_id: organizationId, display_name: `Test ${roles.join('+')}`, roles, username: `u${userId.slice(0, 8)}` });
    return createSession(trx, app.config, { organizationId, userId, roles, method: 'local' });
  });
  const client = Object.assign(app.client(), { userId });
  client.cookies.set('pk_session', issued.token);
  client.cookies.set('pk_csrf', issued.csrfToken);
  return client;
}

export async function newOrganization(app: TestApp, slug: string): Promise<string> {
  const id = randomUUID();
  await withScope(app.services.db, { organizationId: id }, (trx) => trx('organizations').insert({ id, name: slug, slug }));
  return id;
}

let counter = 0;
export function samplePatient(overrides: Record<string, unknown> = {}) {
  counter++;
  return {
    givenName: `Zyrella${counter}x`,
    familyName: `Quonstadt${counter}-Mühlenbeck${counter}`,
    sex: 'female',
    birthDate: '1984-03-17',
    language: 'de',
    country: 'DE',
    phone: `+49 171 55${String(counter).padStart(5, '0')}`,
    whatsapp: `+49 160 77${String(counter).padStart(5, '0')}`,
    email: `zyrella${counter}@example.org`,
    address: { street: `Pflaumenallee ${counter}`, postalCode: '10115', city: 'Berlin', country: 'DE' },
    ...overrides,
  };
}

export function multipart(fields: Record<string, string>, file?: { name?: string; filename: string; type?: string; data: Buffer }, boundary = `----pk${randomUUID()}`) {
  const chunks: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  if (file) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${file.name ?? 'file'}"; filename="${file.filename}"\r\nContent-Type: ${file.type ?? 'image/jpeg'}\r\n\r\n`));
    chunks.push(file.data, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

const seg = (marker: number, payload: Buffer) => Buffer.concat([Buffer.from([0xff, marker]), Buffer.from([(payload.length + 2) >> 8, (payload.length + 2) & 255]), payload]);

/** A JPEG-structured file with EXIF (GPS text), XMP, IPTC and a comment around a scan. */
/** An EXIF APP1 segment whose TIFF body carries a GPS position and the given marker text. */
export function exifGpsSegment(marker: string): Buffer {
  return seg(0xe1, Buffer.concat([Buffer.from('Exif\0\0II*\0\x08\0\0\0', 'latin1'), Buffer.from(`GPSLatitude=48.1372;GPSLongitude=11.5756;${marker}`, 'latin1')]));
}

/** A real, decodable 8×8 grey baseline JPEG, with the given segments after SOI. */
export function realJpeg(segments: Buffer[] = []): Buffer {
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    ...segments,
    seg(0xdb, Buffer.from([0x00, ...new Array(64).fill(1)])),
    seg(0xc0, Buffer.from([8, 0, 8, 0, 8, 1, 1, 0x11, 0])),
    seg(0xc4, Buffer.from([0x00, 1, ...new Array(15).fill(0), 0x00])),
    seg(0xc4, Buffer.from([0x10, 1, ...new Array(15).fill(0), 0x00])),
    seg(0xda, Buffer.from([1, 1, 0x00, 0, 63, 0])),
    Buffer.from([0x3f, 0xff, 0xd9]),
  ]);
}

/** A JPEG segment (marker, length, payload). */
export const jpegSegment = seg;

export function jpegWithMetadata(secret: string): Buffer {
  return Buffer.concat([
    Buffer.from([0xff, 0xd8]),
    seg(0xe0, Buffer.from('JFIF\0\x01\x01\0\0\x01\0\x01\0\0', 'latin1')),
    seg(0xe1, Buffer.from(`Exif\0\0GPSLatitude=52.52;${secret}`, 'latin1')),
    seg(0xe1, Buffer.from(`http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>${secret}</x:xmpmeta>`, 'latin1')),
    seg(0xed, Buffer.from(`Photoshop 3.0\0${secret}`, 'latin1')),
    seg(0xfe, Buffer.from(`comment ${secret}`, 'latin1')),
    seg(0xdb, Buffer.alloc(65, 1)),
    seg(0xc0, Buffer.from([8, 0, 1, 0, 1, 1, 1, 0x11, 0])),
    seg(0xda, Buffer.from([1, 1, 0, 0, 63, 0])),
    Buffer.from('PIXELDATA-0123456789', 'latin1'),
    Buffer.from([0xff, 0xd9]),
  ]);
}

const chunk = (type: string, data: Buffer) => {
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
};

export function pngWithMetadata(secret: string): Buffer {
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0])),
    chunk('tEXt', Buffer.from(`Author\0${secret}`, 'latin1')),
    chunk('eXIf', Buffer.from(`MM\0*${secret}`, 'latin1')),
    chunk('IDAT', Buffer.from([0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00])),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export interface Dump {
  tool: 'pg_dump' | 'sql';
  text: string;
  restoreInto(targetSuperuserUrl: string): Promise<void>;
}

/**
 * A dump of the whole database: pg_dump when it accepts the server (Debian's 15 refuses the
 * embedded 17), otherwise every row of every table as JSON through SQL, which restores with
 * json_populate_recordset into a migrated database with triggers and foreign keys off.
 */
export async function dumpDatabase(superuserUrl: string): Promise<Dump> {
  try {
    const text = execFileSync('pg_dump', ['--no-owner', '--no-privileges', '-d', superuserUrl], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
    return { tool: 'pg_dump', text, restoreInto: async (target) => void execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', '-d', target], { input: text }) };
  } catch {
    /* fall through to the SQL dump */
  }
  const tables = await withClient(superuserUrl, async (c) => {
    const { rows } = await c.query(`select tablename from pg_tables where schemaname = 'public' and tablename not like 'knex_%' order by tablename`);
    const out: Record<string, string> = {};
    for (const { tablename } of rows) out[tablename] = (await c.query(`select coalesce(json_agg(t), '[]')::text as j from ${tablename} t`)).rows[0].j;
    return out;
  });
  return {
    tool: 'sql',
    text: Object.entries(tables).map(([t, j]) => `-- ${t}\n${j}`).join('\n'),
    restoreInto: (target) => withClient(target, async (c) => {
      await c.query('begin');
      await c.query('set local session_replication_role = replica');
      for (const [t, j] of Object.entries(tables)) {
        await c.query(`delete from ${t}`);
        await c.query(`insert into ${t} select * from json_populate_recordset(null::${t}, $1::json)`, [j]);
      }
      const seqs = await c.query(`select table_name as t, column_name as c, pg_get_serial_sequence(table_name, column_name) as s
        from information_schema.columns where table_schema = 'public' and column_default like 'nextval%'`);
      for (const r of seqs.rows) await c.query(`select setval($1, coalesce((select max(${r.c}) from ${r.t}), 0) + 1, false)`, [r.s]);
      await c.query('commit');
    }),
  };
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export const FREE_TEXT = 'Vertraulich-Anamnese-Xylophon';
export const PHOTO_SECRET = 'GPS-52.5200N';
export const HOTEL_SECRET = 'Hotel Quittenhof-Wallersee';

/** A patient with something in every table: versions, every entry kind, consents, a photo. */
export async function fullPatient(admin: Client, overrides: Record<string, unknown> = {}) {
  // Every master data field filled (the export test checks each one), the patient number unique.
  const input = samplePatient({
    title: 'Dr.', salutation: 'ms', insuranceType: 'statutory', insurer: 'AOK Nordost', insuranceNumber: 'A123456780',
    preferredChannel: 'whatsapp', patientNumber: `F-${randomUUID().slice(0, 8)}`, ...overrides,
  });
  const p = (await admin.post('/api/v1/patients', input)).body.patient;
  const base = `/api/v1/patients/${p.id}`;
  const must = async (res: Promise<{ status: number; text: string }>, status = 201) => {
    const r = await res;
    if (r.status !== status) throw new Error(`${r.status} ${r.text}`);
  };
  await must(admin.patch(base, { changes: { language: 'en' }, reason: 'Patient wünscht Englisch' }), 200);
  await must(admin.post(`${base}/anamnesis`, { answers: { smoker: false, blood_thinners: true, blood_thinner_name: 'ASS', hair_status: 'norwood_3', allergies: ['Latex'], free_text: FREE_TEXT } }));
  await must(admin.post(`${base}/diagnoses`, { code: 'L64.9', text: 'Androgenetische Alopezie', diagnosedOn: '2020-01-01' }));
  await must(admin.post(`${base}/plans`, { title: 'FUE', steps: [{ description: 'Vorgespräch' }], notes: 'Notiz' }));
  await must(admin.post(`${base}/consents`, { purpose: 'photo_use', action: 'granted', textVersion: 'v2', channel: 'web', note: 'online' }));
  const photo = multipart({ category: 'front', note: 'Frontalansicht' }, { filename: `${input.familyName}.jpg`, data: jpegWithMetadata(PHOTO_SECRET) });
  await must(admin.request('POST', `${base}/documents`, photo.body, { 'content-type': photo.contentType }));
  // An appointment in a room of its own (each call books without a conflict), with notes.
  const room = (await admin.post('/api/v1/appointments/resources', { kind: 'room', name: `Raum ${p.id.slice(0, 8)}` })).body.resource;
  const types = (await admin.get('/api/v1/appointments/settings')).body.types;
  await must(admin.post('/api/v1/appointments', { patientId: p.id, typeId: types[0].id, roomId: room.id, start: '2026-06-01T10:00', notes: 'Termin-Notiz' }));
  // Travel: a flight in, a hotel stay, a transfer (all encrypted with the patient's key).
  await must(admin.post(`${base}/travel/flights`, { direction: 'inbound', airline: 'Lufthansa', flightNumber: 'LH 631', departureAirport: 'DXB', departureAt: '2026-05-30T08:40', arrivalAirport: 'FRA', arrivalAt: '2026-05-30T13:20' }));
  await must(admin.post(`${base}/travel/hotels`, { name: HOTEL_SECRET, address: 'Kaiserstraße 1, 60311 Frankfurt', checkIn: '2026-05-30', checkOut: '2026-06-04' }));
  await must(admin.post(`${base}/travel/transfers`, { pickupAt: '2026-05-30T14:00', pickupPlace: 'FRA Terminal 1, Ausgang B', driverName: 'Jovan Petrović', driverPhone: '+49 170 1234567' }));
  return { id: p.id as string, input };
}

export async function ownerQuery<T = Record<string, unknown>>(url: string, sql: string, bindings: unknown[] = []): Promise<T[]> {
  const owner = createDb(url, 1);
  try {
    return (await owner.raw(sql, bindings as never)).rows;
  } finally {
    await owner.destroy();
  }
}

/** A message the patient sent over WhatsApp, stored encrypted with the patient's key as the webhook processor stores it. */
export async function storeInbound(app: TestApp, organizationId: string, patientId: string, kind: string, content: { type: string; text: string | null; media: Record<string, unknown> | null }): Promise<string> {
  const id = randomUUID();
  await withScope(app.services.db, { organizationId }, async (trx) => {
    const sealed = await sealJson(app.services.keys, trx, patientKey(organizationId, patientId), `inbound:${id}`, content);
    await trx('inbound_messages').insert({ id, organization_id: organizationId, patient_id: patientId, provider: 'meta', kind, content: sealed, received_at: new Date() });
  });
  return id;
}
