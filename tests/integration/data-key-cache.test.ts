// Data keys in memory (issue 9, items 3 and 4): a record read again does not unwrap its key again,
// a page of patients costs one statement for rows, keys and total, sealing empties the cache, and
// an erasure — in this process or another — ends every read of the patient at once.
import test from 'ava';
import { useSetUpApp, startTestApp, ADMIN, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { clientAs, ownerQuery, samplePatient } from './patients-fixtures.ts';

let app: TestApp;
let admin: Client;
let organizationId: string;

useSetUpApp(test, (env) => ({ app, admin, organizationId } = env));

const cache = () => app.services.keys.cache;
async function newPatient(overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await admin.post('/api/v1/patients', { ...samplePatient(overrides), allowDuplicate: true });
  if (res.status !== 201) throw new Error(`create ${res.status} ${res.text}`);
  return res.body.patient.id;
}
const keyIdOf = async (patientId: string) =>
  (await ownerQuery<{ id: string }>(app.db.ownerUrl, `select id from data_keys where scope = 'patient' and scope_id = ?`, [patientId]))[0].id;

/** The statements the API sends while fn runs (knex query events, transactions included). */
async function statements(fn: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const listener = (q: { sql: string }) => seen.push(q.sql);
  app.services.db.on('query', listener);
  try {
    await fn();
  } finally {
    app.services.db.off('query', listener);
  }
  return seen;
}

test.serial('opening a record a second time takes the data key from the cache: no second unwrap', async (t) => {
  const id = await newPatient();
  cache().clear();
  const before = { ...cache().stats };
  t.is((await admin.get(`/api/v1/patients/${id}`)).status, 200);
  t.is(cache().stats.unwraps - before.unwraps, 1);
  t.is((await admin.get(`/api/v1/patients/${id}`)).status, 200);
  t.is((await admin.get(`/api/v1/patients/${id}/record`)).status, 200);
  t.is(cache().stats.unwraps - before.unwraps, 1, 'the second and third reads did not unwrap');
  t.true(cache().stats.hits - before.hits >= 2);
  t.true(cache().holds(await keyIdOf(id)));
});

test.serial('a page of the list and of a search is one statement for rows, keys and total; no key query per patient', async (t) => {
  const family = `Quastelbrink${Date.now()}`;
  for (let i = 0; i < 6; i++) await newPatient({ familyName: family });
  cache().clear();
  let list: { status: number; body: { items: unknown[]; total: number } } | undefined;
  const listSql = await statements(async () => (list = await admin.get('/api/v1/patients?limit=5')));
  t.is(list!.status, 200);
  t.is(list!.body.items.length, 5);
  t.true(list!.body.total >= 6);
  t.is(listSql.filter((s) => /\bpatients\b/.test(s)).length, 1, listSql.join('\n'));
  t.is(listSql.filter((s) => /\bdata_keys\b/.test(s) && !/\bpatients\b/.test(s)).length, 0, 'no separate key query');

  let search: { status: number; body: { items: unknown[]; total: number } } | undefined;
  const searchSql = await statements(async () => (search = await admin.post('/api/v1/patients/search', { q: family.slice(0, 10), limit: 4 })));
  t.is(search!.status, 200, JSON.stringify(search!.body));
  t.is(search!.body.items.length, 4);
  t.is(search!.body.total, 6);
  t.is(searchSql.filter((s) => /\bpatients\b/.test(s)).length, 1, searchSql.join('\n'));
  t.is(searchSql.filter((s) => /\bdata_keys\b/.test(s) && !/\bpatients\b/.test(s)).length, 1, 'only the organization\'s search key');
});

test.serial('a page beyond the end still reports the total', async (t) => {
  const res = await admin.get('/api/v1/patients?limit=5&offset=100000');
  t.is(res.status, 200);
  t.deepEqual(res.body.items, []);
  t.true(res.body.total >= 7);
});

test.serial('sealing zeroes and empties the cache; after unsealing keys are unwrapped afresh', async (t) => {
  const id = await newPatient();
  t.is((await admin.get(`/api/v1/patients/${id}`)).status, 200);
  t.true(cache().size > 0);
  app.services.seal.seal();
  t.is(cache().size, 0);
  t.is((await admin.get(`/api/v1/patients/${id}`)).status, 503);
  await app.services.seal.unseal(app.services.db, ADMIN.passphrase);
  const unwraps = cache().stats.unwraps;
  t.is((await admin.get(`/api/v1/patients/${id}`)).status, 200);
  t.is(cache().stats.unwraps - unwraps, 1);
});

test.serial('a hard delete removes the key from the cache and the patient is unreadable at once', async (t) => {
  const id = await newPatient();
  t.is((await admin.get(`/api/v1/patients/${id}`)).status, 200);
  const keyId = await keyIdOf(id);
  t.true(cache().holds(keyId));
  const erased = await admin.post(`/api/v1/patients/${id}/erasure`, { confirm: true });
  t.is(erased.status, 200, erased.text);
  t.false(cache().holds(keyId));
  t.is((await admin.get(`/api/v1/patients/${id}`)).status, 404);
  t.is((await admin.get(`/api/v1/patients/${id}/record`)).status, 404);
});

test.serial('a key destroyed by another process or connection is not served from this process\'s cache', async (t) => {
  const givenName = `Vendelin${Date.now()}x`;
  const id = await newPatient({ givenName });
  t.is((await admin.get(`/api/v1/patients/${id}/record`)).status, 200);
  const keyId = await keyIdOf(id);
  t.true(cache().holds(keyId), 'this process holds the unwrapped key');
  // Another connection destroys only the key row; the ciphertext rows stay (the harder case).
  await ownerQuery(app.db.ownerUrl, `update data_keys set wrapped_key = null, destroyed_at = now() where id = ?`, [keyId]);
  t.is((await admin.get(`/api/v1/patients/${id}`)).status, 404);
  t.is((await admin.get(`/api/v1/patients/${id}/record`)).status, 404);
  const page = await admin.post('/api/v1/patients/search', { q: givenName });
  t.not(page.status, 200, 'a page holding the patient is not served either');
});

test.serial('an erasure through a second app instance makes the record unreadable in the first at once', async (t) => {
  const id = await newPatient();
  t.is((await admin.get(`/api/v1/patients/${id}`)).status, 200);
  t.true(cache().holds(await keyIdOf(id)));
  const second = await startTestApp({}, { db: app.db, dataDir: app.dataDir });
  try {
    await second.services.seal.unseal(second.services.db, ADMIN.passphrase);
    const other = await clientAs(second, organizationId, ['admin']);
    const erased = await other.post(`/api/v1/patients/${id}/erasure`, { confirm: true });
    t.is(erased.status, 200, erased.text);
  } finally {
    await second.stop();
  }
  t.is((await admin.get(`/api/v1/patients/${id}`)).status, 404);
  t.is((await admin.get(`/api/v1/patients/${id}/record`)).status, 404);
});
