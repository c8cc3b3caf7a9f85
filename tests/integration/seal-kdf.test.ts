// Unseal reads the Argon2id parameters from seal_config, a row the API role can update. Parameters
// outside the bounds are refused (and audited) instead of deriving the key-encryption key weakly.
import test from 'ava';
import { createDb } from '../../app/api/src/db/connection.ts';
import { KDF_BOUNDS, kdfProblem, PASSPHRASE_KDF } from '../../app/api/src/modules/keystore/keystore.crypto.ts';
import { SealService } from '../../app/api/src/modules/keystore/seal.service.ts';
import { ADMIN, setupInstance, startTestApp, TEST_KDF, type TestApp } from '../helpers/app.ts';

let app: TestApp;
let admin: Awaited<ReturnType<typeof setupInstance>>;
let storedKdf: unknown;

test.before(async () => {
  const first = await startTestApp();
  admin = await setupInstance(first);
  await first.stop();
  app = await startTestApp({}, { db: first.db, dataDir: first.dataDir });
  Object.assign(admin.client, { base: app.url });
  storedKdf = (await app.services.db('seal_config').first('kdf')).kdf;
});

test.after.always(async () => {
  await app?.stop();
  await app?.db.drop();
});

/** Tampers with the row as the API role would (it has UPDATE on seal_config). */
const setKdf = (kdf: unknown) => app.services.db('seal_config').where({ id: 1 }).update({ kdf: JSON.stringify(kdf) });

test('production bounds follow OWASP: 19 MiB, 2 passes, 1 lane at least, and sane maxima', (t) => {
  t.is(kdfProblem(PASSPHRASE_KDF, KDF_BOUNDS), undefined);
  t.regex(kdfProblem(TEST_KDF, KDF_BOUNDS)!, /memoryKiB 8192 is below the minimum 19456/);
  t.regex(kdfProblem({ ...PASSPHRASE_KDF, passes: 1 }, KDF_BOUNDS)!, /passes 1 is below the minimum 2/);
  t.regex(kdfProblem({ ...PASSPHRASE_KDF, parallelism: 0 }, KDF_BOUNDS)!, /parallelism 0 is below/);
  t.regex(kdfProblem({ ...PASSPHRASE_KDF, memoryKiB: 64 * 1024 * 1024 }, KDF_BOUNDS)!, /above the maximum/);
  t.regex(kdfProblem({ ...PASSPHRASE_KDF, algorithm: 'argon2i' }, KDF_BOUNDS)!, /not argon2id/);
  t.regex(kdfProblem({ ...PASSPHRASE_KDF, passes: '3' }, KDF_BOUNDS)!, /passes is not a whole number/);
  t.throws(() => new SealService({ ...PASSPHRASE_KDF, passes: 1 }, KDF_BOUNDS), { message: /out of bounds/ });
});

test.serial('a seal_config row tampered to weak Argon2id parameters is refused at unseal, audited, and the server stays sealed', async (t) => {
  t.true(app.services.seal.isSealed);
  for (const weak of [
    { algorithm: 'argon2id', memoryKiB: 1024, passes: 1, parallelism: 1 },
    { algorithm: 'argon2id', memoryKiB: 8192, passes: 0, parallelism: 1 },
    { algorithm: 'argon2id', memoryKiB: 4 * 1024 * 1024, passes: 1, parallelism: 1 },
  ]) {
    await setKdf(weak);
    const res = await admin.client.post('/api/v1/seal/unseal', { passphrase: ADMIN.passphrase });
    t.is(res.status, 409, JSON.stringify(weak));
    t.is(res.body.error, 'seal_kdf_rejected');
    t.regex(res.body.message, /key-derivation parameters are not acceptable/);
    t.true(app.services.seal.isSealed);
  }
  const o = createDb(app.db.ownerUrl, 1);
  try {
    const rows = await o('audit_log').where({ action: 'seal.unseal', outcome: 'failure' }).whereRaw(`details->>'reason' = 'kdf_rejected'`);
    t.is(rows.length, 3);
  } finally {
    await o.destroy();
  }
  await setKdf(storedKdf);
  const ok = await admin.client.post('/api/v1/seal/unseal', { passphrase: ADMIN.passphrase });
  t.is(ok.status, 200, 'the original parameters unseal again');
  t.false(app.services.seal.isSealed);
});

test.serial('a passphrase change refuses to derive with tampered weak parameters and keeps the old wrap', async (t) => {
  t.false(app.services.seal.isSealed);
  const before = await app.services.db('seal_config').first('wrapped_master_key');
  await setKdf({ algorithm: 'argon2id', memoryKiB: 1024, passes: 1, parallelism: 1 });
  const res = await admin.client.post('/api/v1/seal/passphrase', { currentPassphrase: ADMIN.passphrase, newPassphrase: 'a brand new practice passphrase' });
  t.is(res.status, 409);
  t.is(res.body.error, 'seal_kdf_rejected');
  const after = await app.services.db('seal_config').first('wrapped_master_key');
  t.deepEqual(after.wrapped_master_key, before.wrapped_master_key);
  await setKdf(storedKdf);
});
