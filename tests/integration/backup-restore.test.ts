// Backup → lost server → restore, against a real OpenSSH SFTP server on loopback: the restored
// installation has the same logical database, the same blobs and the same app key, comes up
// sealed, unseals with the practice passphrase, and an erased patient stays erased (a restore
// whose erasure replay failed is not served until the replay has run).
import test from 'ava';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../../app/api/src/core/config.ts';
import { createDb } from '../../app/api/src/db/connection.ts';
import { provisionDatabase } from '../../app/api/src/db/provision.ts';
import { buildServices, migrate } from '../../app/api/src/server.ts';
import { restoreSnapshot } from '../../app/api/src/modules/backup/restore.service.ts';
import { runBackup } from '../../app/api/src/modules/backup/snapshot.service.ts';
import { readIdentityFile } from '../../app/api/src/modules/backup/age/index.ts';
import { backupSigningKey, signersInIdentityFile } from '../../app/api/src/modules/backup/manifest-signature.ts';
import { ADMIN, setupInstance, startTestApp, TEST_KDF, type TestApp } from '../helpers/app.ts';
import { waitForChained } from '../helpers/audit.ts';
import { startSshd, type Sshd } from '../helpers/sshd.ts';
import { TEST_ROLE_PASSWORDS } from '../helpers/pg.ts';
import type { Client } from '../helpers/http-client.ts';
import { backupEnv, fingerprint, maxAuditId, offlineKey, runtimeFor, seedPatients, sftpSpec, treeHashes, writeIdentityFile } from './backup-fixtures.ts';

const run = promisify(execFile);
const CLI = process.env.PK_TEST_CLI ?? 'appliance/src/cli.ts';

let sshd: Sshd;
let app: TestApp;
let admin: Client;
let work: string;

test.before(async () => {
  sshd = await startSshd();
  work = mkdtempSync(path.join(tmpdir(), 'pk-backup-restore-'));
  app = await startTestApp();
  ({ client: admin } = await setupInstance(app));
});
test.after.always(async () => {
  await app?.stop().catch(() => undefined);
  await app?.db.drop().catch(() => undefined);
  await sshd?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** What a lost server leaves: nothing. The playbook provisions an empty database; the app migrates it. */
async function wipe(a: TestApp, keepLedger = false) {
  await a.stop();
  const c = new pg.Client({ connectionString: a.db.superuserUrl.replace(/\/[^/]+$/, '/postgres') });
  await c.connect();
  await c.query(`drop database ${a.db.name} with (force)`);
  await c.end();
  rmSync(path.join(a.dataDir, 'blobs'), { recursive: true, force: true });
  rmSync(path.join(a.dataDir, 'secrets'), { recursive: true, force: true });
  if (!keepLedger) rmSync(path.join(a.dataDir, 'ledger'), { recursive: true, force: true });
  await provisionDatabase(a.db.superuserUrl.replace(/\/[^/]+$/, '/postgres'), a.db.name, TEST_ROLE_PASSWORDS);
  await migrate(a.db.ownerUrl);
}

/** `praxiskern restore` on the new server, in-process, with the identity file of the old server's kit. */
async function restore(a: TestApp, env: NodeJS.ProcessEnv, signer: string) {
  const config = loadConfig({ PRAXISKERN_DATA_DIR: a.dataDir, DATABASE_URL: a.db.appUrl, DATABASE_OWNER_URL: a.db.ownerUrl, LOG_LEVEL: 'silent' });
  const db = createDb(a.db.appUrl, 2);
  try {
    const services = buildServices(config, db, TEST_KDF);
    const rt = runtimeFor(services, a.db.ownerUrl, env);
    const file = writeIdentityFile(work, offlineKey.identity, signer);
    return await restoreSnapshot(rt, { identities: await readIdentityFile(file), signers: await signersInIdentityFile(file) });
  } finally {
    await db.destroy();
  }
}

test.serial('backup to SFTP, wipe the server, restore: same database, same blobs, same app key; the app comes up sealed', async (t) => {
  await seedPatients(admin, 4, 2);
  const env = backupEnv([sftpSpec(sshd)]);
  const blobsBefore = treeHashes(path.join(app.dataDir, 'blobs'));
  t.is(Object.keys(blobsBefore).filter((k) => !k.includes('/') === false).length, 8, 'eight documents are eight blobs');
  const appKey = readFileSync(path.join(app.dataDir, 'secrets', 'app.key'), 'utf8');
  // Entries are chained after their commit: fix the compared range first, then wait until all of it is chained.
  const auditUpTo = await maxAuditId(app.db.ownerUrl);
  await waitForChained(app.services.db);
  const catalog = ['backup_jobs', 'backup_snapshots', 'backup_blobs', 'backup_keys'];
  const before = await fingerprint(app.db.ownerUrl, { exclude: catalog, auditUpTo });

  const result = await runBackup(runtimeFor(app.services, app.db.ownerUrl, env));
  t.true(result.ok, result.error);
  t.is(result.targets.storagebox.blobsUploaded, 8);

  const signer = backupSigningKey(app.services.appKey).text;
  await wipe(app);
  t.deepEqual(treeHashes(path.join(app.dataDir, 'blobs')), {});

  const restored = await restore(app, env, signer);
  t.is(restored.snapshotId, result.snapshotId);
  t.true(restored.config.appKeyRestored);
  t.true(restored.sealed);
  const after = await fingerprint(app.db.ownerUrl, { exclude: catalog, auditUpTo });
  t.deepEqual(after, before);
  t.true(Object.keys(after).length >= 15 && after.patients.rows === 4 && after.documents.rows === 8);
  // The catalog was re-indexed from the target: the restored snapshot counts.
  const cat = await fingerprint(app.db.ownerUrl, { exclude: Object.keys(after) });
  t.is(cat.backup_snapshots.rows, 1);
  t.is(cat.backup_blobs.rows, 8);
  t.deepEqual(treeHashes(path.join(app.dataDir, 'blobs')), blobsBefore);
  t.is(readFileSync(path.join(app.dataDir, 'secrets', 'app.key'), 'utf8'), appKey);

  // The restored installation starts sealed and unseals with the practice passphrase.
  app = await startTestApp({}, { db: app.db, dataDir: app.dataDir });
  t.true(app.services.seal.isSealed);
  await app.services.seal.unseal(app.services.db, ADMIN.passphrase);
  t.false(app.services.seal.isSealed);
});

test.serial('an erased patient stays erased after restoring a backup taken before the erasure', async (t) => {
  admin = (await setupFresh()).client;
  const [keep, erase] = await seedPatients(admin, 2, 1);
  const env = backupEnv([sftpSpec(sshd, 'erasure')]);
  const result = await runBackup(runtimeFor(app.services, app.db.ownerUrl, env));
  t.true(result.ok, result.error);
  const res = await admin.post(`/api/v1/patients/${erase}/erasure`, { confirm: true, override: true, reason: 'Art. 17 request (test)' });
  t.is(res.status, 200, res.text);

  const signer = backupSigningKey(app.services.appKey).text;
  await wipe(app, true); // the database is lost; the ledger file on the host survived
  const restored = await restore(app, env, signer);
  t.deepEqual(restored.erasure.patientsErasedAgain, [erase]);
  const owner = new pg.Client({ connectionString: app.db.ownerUrl });
  await owner.connect();
  const { rows } = await owner.query('select id from patients order by id');
  await owner.end();
  t.deepEqual(rows.map((r) => r.id), [keep]);
  app = await startTestApp({}, { db: app.db, dataDir: app.dataDir });
});

test.serial('a restore whose erasure replay fails leaves the server refusing to start until "praxiskern erasure replay" has run', async (t) => {
  admin = (await setupFresh()).client;
  const [keep, erase] = await seedPatients(admin, 2, 1);
  const env = backupEnv([sftpSpec(sshd, 'replay')]);
  const result = await runBackup(runtimeFor(app.services, app.db.ownerUrl, env));
  t.true(result.ok, result.error);
  const res = await admin.post(`/api/v1/patients/${erase}/erasure`, { confirm: true, override: true, reason: 'Art. 17 request (test)' });
  t.is(res.status, 200, res.text);
  const signer = backupSigningKey(app.services.appKey).text;
  await wipe(app, true);
  // The injected failure: a first ledger line whose time the replay cannot store, so the replay stops
  // before it reaches the erased patient.
  const ledger = path.join(app.dataDir, 'ledger', 'erasure-ledger.jsonl');
  const intact = readFileSync(ledger, 'utf8');
  writeFileSync(ledger, JSON.stringify({ organizationId: randomUUID(), patientId: randomUUID(), erasedAt: 'yesterday-ish' }) + '\n' + intact);

  const failed = await t.throwsAsync(restore(app, env, signer));
  t.regex(failed!.message, /invalid input syntax for type timestamp/);
  t.deepEqual(await patientIds(app.db.ownerUrl), [keep, erase].sort(), 'the restore committed and the erased patient is back in the database');
  const refused = await t.throwsAsync(startTestApp({}, { db: app.db, dataDir: app.dataDir }));
  t.regex(refused!.message, /erasure-ledger replay after restore of snapshot \S+ has not completed: .* Run "praxiskern erasure replay"/);

  writeFileSync(ledger, intact); // the operator repairs the torn line
  const { stdout } = await run(process.execPath, [CLI, 'erasure', 'replay', '--json'], {
    env: { ...process.env, PRAXISKERN_DATA_DIR: app.dataDir, DATABASE_URL: app.db.appUrl, DATABASE_OWNER_URL: app.db.ownerUrl, LOG_LEVEL: 'silent' },
  });
  t.deepEqual(JSON.parse(stdout).patientsErasedAgain, [erase]);
  app = await startTestApp({}, { db: app.db, dataDir: app.dataDir });
  t.deepEqual(await patientIds(app.db.ownerUrl), [keep]);
});

async function patientIds(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query('select id from patients order by id')).rows.map((r) => r.id);
  } finally {
    await c.end();
  }
}

async function setupFresh() {
  // After the first test the app runs on the restored database, already set up: start over.
  await app.stop();
  await app.db.drop();
  rmSync(app.dataDir, { recursive: true, force: true });
  app = await startTestApp();
  return setupInstance(app);
}
