// Broken files, wrong keys, full and unreachable targets: each gives a clear one-line error, a
// failure metric, and no snapshot that counts as good. The pre-update hook refuses to proceed.
import test from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { generateIdentity } from '../../app/api/src/modules/backup/age/index.ts';
import { restoreSnapshot } from '../../app/api/src/modules/backup/restore.service.ts';
import { runBackup } from '../../app/api/src/modules/backup/snapshot.service.ts';
import { completeSnapshots, verifyBackups } from '../../app/api/src/modules/backup/verify.service.ts';
import { takePreUpdateSnapshot } from '../../app/api/src/modules/backup/pre-update.ts';
import { blobPath, dbPath } from '../../app/api/src/modules/backup/manifest.ts';
import { backupSigningKey } from '../../app/api/src/modules/backup/manifest-signature.ts';
import { setupInstance, startTestApp, TEST_KDF, type TestApp } from '../helpers/app.ts';
import { createTestDatabase } from '../helpers/pg.ts';
import { loadConfig } from '../../app/api/src/core/config.ts';
import { createDb } from '../../app/api/src/db/connection.ts';
import { buildServices, migrate } from '../../app/api/src/server.ts';
import { freePort, startSshd, type Sshd } from '../helpers/sshd.ts';
import { backupEnv, metricValue, offlineKey, runtimeFor, seedPatients, sftpSpec } from './backup-fixtures.ts';

let app: TestApp;
let work: string;
let fullSshd: Sshd;

test.before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'pk-backup-fail-'));
  app = await startTestApp();
  const { client } = await setupInstance(app);
  await seedPatients(client, 3, 2);
  fullSshd = await startSshd({ fileSizeLimitKiB: 8 });
});
test.after.always(async () => {
  await app?.stop();
  await app?.db.drop();
  await fullSshd?.stop();
  rmSync(work, { recursive: true, force: true });
});

function localTarget(name: string) {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  return { spec: `${name}=local:${dir}`, dir };
}

async function goodSnapshot(name: string) {
  const { spec, dir } = localTarget(name);
  const rt = runtimeFor(app.services, app.db.ownerUrl, backupEnv([spec]));
  const r = await runBackup(rt);
  if (!r.ok) throw new Error(r.error);
  return { rt, dir, snapshotId: r.snapshotId };
}

const failures = (kind: string, target: string) => metricValue(app.services, 'praxiskern_backup_failures_total', { kind, target });

test.serial('a truncated database file fails verification and restore with a clear reason and counts as not good', async (t) => {
  const { rt, dir, snapshotId } = await goodSnapshot('truncated');
  const file = path.join(dir, dbPath(snapshotId));
  truncateSync(file, readFileSync(file).length - 100);
  const [report] = await verifyBackups(rt, { identities: [offlineKey.identity] });
  t.false(report.ok);
  t.is(report.problems[0].path, dbPath(snapshotId));
  t.regex(report.problems[0].reason, /truncated or altered/);
  t.is(await failures('verify', 'truncated'), 1);
  const row = await app.services.db('backup_snapshots').where({ target: 'truncated', snapshot_id: snapshotId }).first();
  t.regex(row.verify_error, /truncated or altered/, 'the catalog marks the snapshot broken');
  // Restore refuses while the app is connected, and onto a fresh install names the broken file.
  const busy = await t.throwsAsync(restoreSnapshot(rt, { identities: [offlineKey.identity], force: true }));
  t.regex(busy!.message, /the app is still connected to the database: stop it before restoring/);
  const fresh = await createTestDatabase();
  await migrate(fresh.ownerUrl);
  const db = createDb(fresh.appUrl, 2);
  try {
    const services = buildServices(loadConfig({ PRAXISKERN_DATA_DIR: path.join(work, 'fresh'), DATABASE_URL: fresh.appUrl, LOG_LEVEL: 'silent' }), db, TEST_KDF);
    const rt2 = runtimeFor(services, fresh.ownerUrl, backupEnv([`truncated=local:${dir}`]));
    // A new server trusts the old one's snapshots through the signing key of the recovery kit.
    const signers = [backupSigningKey(app.services.appKey).text];
    const tables = async () => {
      const c = new pg.Client({ connectionString: fresh.ownerUrl });
      await c.connect();
      const { rows } = await c.query(`select count(*)::int as n from pg_tables where schemaname = 'public'`);
      await c.end();
      return rows[0].n as number;
    };
    const before = await tables();
    const err = await t.throwsAsync(restoreSnapshot(rt2, { identities: [offlineKey.identity], signers }));
    t.regex(err!.message, /truncated or altered/);
    t.true(before > 10);
    t.is(await tables(), before, 'the fresh database is untouched: emptying and pg_restore ran in one transaction and rolled back');
  } finally {
    await db.destroy();
    await fresh.drop();
  }
});

test.serial('an altered blob is named by verification', async (t) => {
  const { rt, dir, snapshotId } = await goodSnapshot('altered');
  const [victim] = (await app.services.db('backup_blobs').where({ target: 'altered' }).select('blob_id')).map((r) => r.blob_id);
  const file = path.join(dir, blobPath(victim));
  const bytes = readFileSync(file);
  bytes[bytes.length - 20] ^= 0x01;
  writeFileSync(file, bytes);
  const [report] = await verifyBackups(rt, { identities: [offlineKey.identity], snapshotId });
  t.false(report.ok);
  t.is(report.problems.length, 1);
  t.is(report.problems[0].path, blobPath(victim));
  t.regex(report.problems[0].reason, /truncated or altered \(chunk 1 failed authentication\)/);
});

test.serial('a wrong key says so', async (t) => {
  const { rt } = await goodSnapshot('wrongkey');
  const [report] = await verifyBackups(rt, { identities: [generateIdentity().identity] });
  t.false(report.ok);
  t.is(report.problems[0].code, 'age_no_match');
  t.regex(report.problems[0].path, /manifest\.json\.age$/);
  t.is(await failures('verify', 'wrongkey'), 1);
});

test.serial('a full target fails the run with target_full, a failure metric, and no snapshot', async (t) => {
  const rt = runtimeFor(app.services, app.db.ownerUrl, backupEnv([sftpSpec(fullSshd, 'full', 'full')]));
  const r = await runBackup(rt);
  t.false(r.ok);
  t.is(r.targets.full.code, 'target_full');
  t.regex(r.error!, /^full: backup target "full": no space left while writing snapshots\/.*db\.dump\.age/);
  t.is(await failures('backup', 'full'), 1);
  t.is(await metricValue(app.services, 'praxiskern_backup_last_run_success', { target: 'full' }), 0);
  const [target] = rt.targets();
  t.deepEqual(await completeSnapshots(target), []);
  await target.close();
  t.is((await app.services.db('backup_snapshots').where({ target: 'full' })).length, 0);
});

test.serial('an unreachable target fails alone: the other target completes; the pre-update hook refuses', async (t) => {
  const port = await freePort();
  const dead = `offsite=sftp://backup@127.0.0.1:${port}/x?hostkey=SHA256:AAAA&key=${encodeURIComponent(fullSshd.clientKey.privateKeyPath)}&timeout=2000`;
  const good = localTarget('onsite');
  const rt = runtimeFor(app.services, app.db.ownerUrl, backupEnv([good.spec, dead]));
  const r = await runBackup(rt);
  t.false(r.ok);
  t.true(r.targets.onsite.ok);
  t.is(r.targets.offsite.code, 'target_unreachable');
  t.regex(r.error!, /^offsite: backup target "offsite": cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)$/);
  t.is(await failures('backup', 'offsite'), 1);
  t.is(await metricValue(app.services, 'praxiskern_backup_last_run_success', { target: 'offsite' }), 0);
  t.is(await metricValue(app.services, 'praxiskern_backup_last_run_success', { target: 'onsite' }), 1);
  t.truthy(await metricValue(app.services, 'praxiskern_backup_last_success_timestamp_seconds', { target: 'onsite' }));
  t.is((await app.services.db('backup_snapshots').where({ target: 'offsite' })).length, 0);
  const err = await t.throwsAsync(takePreUpdateSnapshot(app.services));
  t.regex(err!.message, /pre-update snapshot failed, so the update does not proceed: offsite: .*cannot reach/);
});

test.serial('without an offline recovery key, no backup is taken', async (t) => {
  // Setup created a recovery kit; retire it so neither the database nor the environment names one.
  await app.services.db('backup_keys').where({ kind: 'recovery' }).whereNull('retired_at').update({ retired_at: app.services.db.fn.now() });
  const { spec } = localTarget('norecipient');
  const rt = runtimeFor(app.services, app.db.ownerUrl, { ...backupEnv([spec]), PRAXISKERN_BACKUP_RECIPIENTS: '' });
  const r = await runBackup(rt);
  t.false(r.ok);
  t.regex(r.error!, /no offline recovery key is configured: run "praxiskern recovery-kit"/);
});
