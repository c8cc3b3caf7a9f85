// Key store: per-record data keys bound to organization and record; passphrase change re-wraps
// without re-encrypting; destroyed keys make data unreadable; nothing works while sealed.
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { withScope } from '../../app/api/src/db/connection.ts';
import { startTestApp, setupInstance, ADMIN, type TestApp } from '../helpers/app.ts';

let app: TestApp;
let org: string;

test.before(async () => {
  app = await startTestApp();
  org = (await setupInstance(app)).organizationId;
});
test.after.always(async () => {
  await app?.stop();
  await app?.db.drop();
});

const scoped = <T>(fn: Parameters<typeof withScope<T>>[2]) => withScope(app.services.db, { organizationId: org }, fn);

test.serial('a field encrypts and decrypts with the record key; the database holds no plaintext', async (t) => {
  const ref = { organizationId: org, scope: 'patient', scopeId: randomUUID() };
  const box = await scoped((trx) => app.services.keys.encrypt(trx, ref, 'anamnesis', 'Penicillin-Allergie'));
  t.false(box.toString('latin1').includes('Penicillin'));
  const plain = await scoped((trx) => app.services.keys.decrypt(trx, ref, 'anamnesis', box));
  t.is(plain.toString(), 'Penicillin-Allergie');
  const row = await scoped((trx) => trx('data_keys').where({ scope_id: ref.scopeId }).first());
  t.is(row.wrapped_key.length, 1 + 12 + 16 + 32);
});

test.serial('a ciphertext moved to another record or field does not decrypt', async (t) => {
  const a = { organizationId: org, scope: 'patient', scopeId: randomUUID() };
  const b = { organizationId: org, scope: 'patient', scopeId: randomUUID() };
  const box = await scoped((trx) => app.services.keys.encrypt(trx, a, 'name', 'Erika Mustermann'));
  await scoped((trx) => app.services.keys.encrypt(trx, b, 'name', 'x'));
  await t.throwsAsync(scoped((trx) => app.services.keys.decrypt(trx, b, 'name', box)), { message: /failed authentication/ });
  await t.throwsAsync(scoped((trx) => app.services.keys.decrypt(trx, a, 'email', box)), { message: /failed authentication/ });
});

test.serial('a destroyed data key makes its data unreadable for good (crypto-shredding)', async (t) => {
  const ref = { organizationId: org, scope: 'patient', scopeId: randomUUID() };
  const box = await scoped((trx) => app.services.keys.encrypt(trx, ref, 'name', 'Max'));
  await scoped((trx) => app.services.keys.destroy(trx, ref));
  await t.throwsAsync(scoped((trx) => app.services.keys.decrypt(trx, ref, 'name', box)), { message: /not found/ });
  await t.throwsAsync(scoped((trx) => app.services.keys.encrypt(trx, ref, 'name', 'again')), { message: /not found/ });
  const row = await scoped((trx) => trx('data_keys').where({ scope_id: ref.scopeId }).first());
  t.is(row.wrapped_key, null);
  t.truthy(row.destroyed_at);
});

test.serial('changing the passphrase re-wraps the master key and leaves data keys untouched', async (t) => {
  const ref = { organizationId: org, scope: 'patient', scopeId: randomUUID() };
  const box = await scoped((trx) => app.services.keys.encrypt(trx, ref, 'name', 'Vor dem Wechsel'));
  const keysBefore = await scoped((trx) => trx('data_keys').orderBy('id').select('id', 'wrapped_key'));
  const sealBefore = await app.services.db('seal_config').first();
  const newPass = 'a completely new practice passphrase';
  await app.services.seal.changePassphrase(app.services.db, ADMIN.passphrase, newPass);
  const keysAfter = await scoped((trx) => trx('data_keys').orderBy('id').select('id', 'wrapped_key'));
  t.deepEqual(keysAfter, keysBefore);
  const sealAfter = await app.services.db('seal_config').first();
  t.notDeepEqual(sealAfter.wrapped_master_key, sealBefore.wrapped_master_key);
  app.services.seal.seal();
  await t.throwsAsync(app.services.seal.unseal(app.services.db, ADMIN.passphrase), { message: /passphrase: is wrong/ });
  await app.services.seal.unseal(app.services.db, newPass);
  const plain = await scoped((trx) => app.services.keys.decrypt(trx, ref, 'name', box));
  t.is(plain.toString(), 'Vor dem Wechsel');
  await app.services.seal.changePassphrase(app.services.db, newPass, ADMIN.passphrase);
});

test.serial('while sealed, the key store refuses with "sealed"', async (t) => {
  app.services.seal.seal();
  const ref = { organizationId: org, scope: 'patient', scopeId: randomUUID() };
  await t.throwsAsync(scoped((trx) => app.services.keys.encrypt(trx, ref, 'name', 'x')), { message: /sealed/ });
  await app.services.seal.unseal(app.services.db, ADMIN.passphrase);
  t.false(app.services.seal.isSealed);
});
