// After a restart the server is sealed: health, status, login and unseal work, nothing else.
import test from 'ava';
import { execFile } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { startTestApp, setupInstance, ADMIN, type TestApp } from '../helpers/app.ts';

const run = promisify(execFile);
let first: TestApp;
let app: TestApp;
let admin: Awaited<ReturnType<typeof setupInstance>>;

test.before(async () => {
  first = await startTestApp();
  admin = await setupInstance(first);
  await first.stop();
  app = await startTestApp({}, { db: first.db, dataDir: first.dataDir });
});
test.after.always(async () => {
  await app?.stop();
  await app?.db.drop();
});

function cli(args: string[]): Promise<{ code?: number; stdout: string; stderr: string }> {
  return run('node_modules/.bin/node', ['appliance/src/cli.ts', ...args], {
    env: { ...process.env, PRAXISKERN_DATA_DIR: app.dataDir, DATABASE_URL: app.db.appUrl, DATABASE_OWNER_URL: app.db.ownerUrl },
  }).catch((e) => e as { code: number; stdout: string; stderr: string });
}

test.serial('after a restart the data is kept and the server is sealed', async (t) => {
  const c = app.client();
  const ready = await c.get('/readyz');
  t.is(ready.status, 200);
  t.like(ready.body, { database: 'ok', sealed: true, initialized: true });
  t.is((await c.get('/healthz')).status, 200);
  t.is((await c.get('/api/v1/seal')).body.sealed, true);
});

test.serial('a sealed server refuses data routes with 503 "sealed" even for a logged-in admin', async (t) => {
  const c = admin.client;
  c.base !== app.url && Object.assign(c, { base: app.url });
  const res = await c.get('/api/v1/audit');
  t.is(res.status, 503);
  t.is(res.body.error, 'sealed');
  const session = await c.get('/api/v1/session');
  t.is(session.status, 200);
  t.is(session.body.sealed, true);
});

test.serial('a wrong passphrase gets a clear 400 and repeated failures are rate-limited', async (t) => {
  const c = admin.client;
  for (let i = 0; i < 5; i++) {
    const res = await c.post('/api/v1/seal/unseal', { passphrase: `wrong passphrase ${i}` });
    t.is(res.status, 400);
    t.is(res.body.details[0].field, 'passphrase');
  }
  const locked = await c.post('/api/v1/seal/unseal', { passphrase: ADMIN.passphrase });
  t.is(locked.status, 429);
  t.truthy(locked.headers.get('retry-after'));
  t.true(app.services.seal.isSealed);
  const metrics = await (await fetch(app.metricsUrl)).text();
  t.regex(metrics, /praxiskern_logins_total\{method="unseal",outcome="failure"\} 5/);
  t.regex(metrics, /praxiskern_sealed 1/);
  await app.services.db('rate_limits').where({ bucket: 'unseal' }).delete().catch(() => undefined);
});

test.serial('"praxiskern unseal" unseals the running server through the admin socket', async (t) => {
  await app.services.db.raw('select 1');
  // The API role may delete rate-limit rows; clear the lock the previous test left.
  await app.services.db('rate_limits').delete();
  const statusBefore = await cli(['status', '--json']);
  t.is(JSON.parse(statusBefore.stdout).sealed, true);
  const wrong = path.join(app.dataDir, 'wrong.txt');
  writeFileSync(wrong, 'not the passphrase\n');
  const bad = await cli(['unseal', '--passphrase-file', wrong]);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /passphrase: is wrong/);
  const file = path.join(app.dataDir, 'pass.txt');
  writeFileSync(file, ADMIN.passphrase + '\n');
  const ok = await cli(['unseal', '--passphrase-file', file, '--json']);
  t.deepEqual(JSON.parse(ok.stdout), { ok: true, sealed: false });
  t.false(app.services.seal.isSealed);
  t.is((await admin.client.get('/api/v1/audit')).status, 200);
  const metrics = await (await fetch(app.metricsUrl)).text();
  t.regex(metrics, /praxiskern_sealed 0/);
});

test.serial('auto-unseal from a key file is opt-in and requires mode 0600', async (t) => {
  await app.stop();
  const keyFile = path.join(app.dataDir, 'auto-unseal.key');
  writeFileSync(keyFile, ADMIN.passphrase);
  chmodSync(keyFile, 0o644);
  app = await startTestApp({ PRAXISKERN_AUTO_UNSEAL_KEY_FILE: keyFile }, { db: app.db, dataDir: app.dataDir });
  t.true(app.services.seal.isSealed, 'a world-readable key file is refused');
  await app.stop();
  chmodSync(keyFile, 0o600);
  app = await startTestApp({ PRAXISKERN_AUTO_UNSEAL_KEY_FILE: keyFile }, { db: app.db, dataDir: app.dataDir });
  t.false(app.services.seal.isSealed);
});
