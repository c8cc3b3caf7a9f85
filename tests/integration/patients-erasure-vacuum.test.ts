// Issue 8, item 8: after an erasure the destroyed wrapped key must not linger in dead row versions.
// The test reads the relation files themselves (superuser, after CHECKPOINT), so it sees what a
// stolen disk would show, not what SQL shows.
import test from 'ava';
import { createDb, type Db } from '../../app/api/src/db/connection.ts';
import { vacuumAfterErasure } from '../../app/api/src/modules/gdpr/erasure-vacuum.ts';
import { startTestApp, setupInstance, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { fullPatient } from './patients-fixtures.ts';

let app: TestApp;
let admin: Client;
let owner: Db;
let superuser: Db;

test.before(async () => {
  app = await startTestApp();
  ({ client: admin } = await setupInstance(app));
  owner = createDb(app.db.ownerUrl, 2);
  superuser = createDb(app.db.superuserUrl, 1);
});
test.after.always(async () => {
  await owner?.destroy();
  await superuser?.destroy();
  await app?.stop();
  await app?.db.drop();
});

/** The on-disk bytes of a table (main fork, all segments up to 1 GiB are one file here). */
async function tableFile(table: string): Promise<Buffer> {
  await superuser.raw('checkpoint');
  const { rows } = await superuser.raw(`select pg_read_binary_file(pg_relation_filepath(?::regclass)) as b`, [table]);
  return rows[0].b as Buffer;
}

test.serial('after an erasure and the worker\'s vacuum pass, the wrapped key is in no data file, and the app role cannot vacuum', async (t) => {
  const { id } = await fullPatient(admin);
  const [key] = await owner('data_keys').where({ scope: 'patient', scope_id: id }).select('wrapped_key');
  const [row] = await owner('patients').where({ id }).select('data');
  t.true((await tableFile('data_keys')).includes(key.wrapped_key), 'the check can fail: the key is on disk while the patient exists');

  const res = await admin.post(`/api/v1/patients/${id}/erasure`, { confirm: true });
  t.is(res.status, 200, res.text);
  t.true((await tableFile('data_keys')).includes(key.wrapped_key), 'without vacuum the destroyed key is still in a dead row version');

  const appDb = createDb(app.db.appUrl, 1);
  try {
    await appDb.raw('vacuum data_keys');
    t.true((await tableFile('data_keys')).includes(key.wrapped_key), 'the application role\'s VACUUM skips tables it does not own');
  } finally {
    await appDb.destroy();
  }

  // The worker repeats the pass on its schedule: a transaction that was open somewhere in the
  // cluster during one pass (here: other test files) can keep the old version alive until the next.
  const deadline = Date.now() + 60_000;
  let passes = 0;
  let onDisk = true;
  while (onDisk && Date.now() < deadline) {
    const result = await vacuumAfterErasure(owner);
    passes++;
    t.true(result.destroyedKeys >= 1);
    onDisk = (await tableFile('data_keys')).includes(key.wrapped_key);
    if (onDisk) await new Promise((r) => setTimeout(r, 500));
  }
  t.log(`vacuum passes until the key was gone: ${passes}`);
  t.false(onDisk, 'the destroyed wrapped key is gone from the data file');
  t.log(`patient ciphertext still in the patients file after plain VACUUM: ${(await tableFile('patients')).includes(row.data)}`);
});

test.serial('the pass does nothing when no key was destroyed recently', async (t) => {
  t.deepEqual(await vacuumAfterErasure(owner, 0), { destroyedKeys: 0, vacuumed: [] });
});
