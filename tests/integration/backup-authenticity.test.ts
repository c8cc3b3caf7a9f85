// Backups are authenticated and restores are all or nothing: a snapshot planted on the target
// (encrypted to the real recipients, not signed by the installation) or an altered manifest is
// refused by verify, drill and restore; a manifest naming paths outside its snapshot is refused;
// a damaged blob or dump leaves the target database and data directory as they were; the first
// snapshot after setup, taken by a sealed process, already opens with the drill key.
import test from 'ava';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../../app/api/src/core/config.ts';
import { createDb } from '../../app/api/src/db/connection.ts';
import { buildServices, migrate } from '../../app/api/src/server.ts';
import { decryptFile, encryptFile } from '../../app/api/src/modules/backup/age/index.ts';
import { drillDatabaseUrl, runDrill } from '../../app/api/src/modules/backup/drill.service.ts';
import { blobPath, dbPath, manifestPath, signaturePath, type Manifest } from '../../app/api/src/modules/backup/manifest.ts';
import { backupSigningKey } from '../../app/api/src/modules/backup/manifest-signature.ts';
import { restoreSnapshot } from '../../app/api/src/modules/backup/restore.service.ts';
import { runBackup } from '../../app/api/src/modules/backup/snapshot.service.ts';
import { verifyBackups } from '../../app/api/src/modules/backup/verify.service.ts';
import { setupInstance, startTestApp, TEST_KDF, waitForWorkerUnsealed, type TestApp } from '../helpers/app.ts';
import { waitForChained } from '../helpers/audit.ts';
import { createTestDatabase } from '../helpers/pg.ts';
import { backupEnv, fingerprint, maliciousDump, offlineKey, runtimeFor, seedPatients, treeHashes } from './backup-fixtures.ts';

const run = promisify(execFile);
const CLI = process.env.PK_TEST_CLI ?? 'appliance/src/cli.ts';

let app: TestApp;
let work: string;
let targetDir: string;
let env: NodeJS.ProcessEnv;
let first: string;

test.before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'pk-backup-auth-'));
  targetDir = path.join(work, 'target');
  mkdirSync(targetDir);
  app = await startTestApp();
  const { client } = await setupInstance(app);
  await seedPatients(client, 2, 1);
  // The worker's own unseal entry lands shortly after setup: not between two fingerprints.
  const owner = createDb(app.db.ownerUrl, 1);
  await waitForWorkerUnsealed(app, owner).finally(() => owner.destroy());
  env = backupEnv([`nas=local:${targetDir}`]);
});
test.after.always(async () => {
  await app?.stop();
  await app?.db.drop();
  rmSync(work, { recursive: true, force: true });
});

const rt = () => runtimeFor(app.services, app.db.ownerUrl, env);

async function readManifestFile(id: string): Promise<Manifest> {
  const out = path.join(work, `${id}.manifest.json`);
  await decryptFile(path.join(targetDir, manifestPath(id)), out, [offlineKey.identity]);
  return JSON.parse(readFileSync(out, 'utf8'));
}

/** What an attacker with write access and the public recipients can do: write any manifest, encrypted to them. */
async function writeManifest(id: string, manifest: Manifest, signature?: (sealed: Buffer) => Buffer): Promise<void> {
  const plain = path.join(work, `${id}.forged.json`);
  writeFileSync(plain, JSON.stringify(manifest));
  mkdirSync(path.join(targetDir, 'snapshots', id), { recursive: true });
  rmSync(path.join(targetDir, signaturePath(id)), { force: true });
  await encryptFile(plain, path.join(targetDir, manifestPath(id)), manifest.recipients);
  if (signature) writeFileSync(path.join(targetDir, signaturePath(id)), signature(readFileSync(path.join(targetDir, manifestPath(id)))));
}

/** A copy of a real snapshot under a newer id, its manifest rewritten and encrypted to the real recipients. */
async function plant(id: string, from: string, edit: (m: Manifest) => void, signature?: (sealed: Buffer) => Buffer): Promise<void> {
  cpSync(path.join(targetDir, 'snapshots', from), path.join(targetDir, 'snapshots', id), { recursive: true });
  const m = await readManifestFile(from);
  m.snapshotId = id;
  m.files = m.files.map((f) => ({ ...f, path: f.path.replace(from, id) }));
  edit(m);
  await writeManifest(id, m, signature);
}

const removeSnapshot = (id: string) => rmSync(path.join(targetDir, 'snapshots', id), { recursive: true, force: true });

/** The database as it stands once the sequencer has chained the entries already committed (the drill's). */
async function settledFingerprint(): Promise<Awaited<ReturnType<typeof fingerprint>>> {
  await waitForChained(app.services.db);
  return fingerprint(app.db.ownerUrl);
}

test.serial('the first snapshot after setup, taken by the sealed CLI, is encrypted to the drill key and the first drill passes', async (t) => {
  const cliEnv = { ...process.env, ...env, PRAXISKERN_DATA_DIR: app.dataDir, DATABASE_URL: app.db.appUrl, DATABASE_OWNER_URL: app.db.ownerUrl, LOG_LEVEL: 'silent' };
  const { stdout } = await run(process.execPath, [CLI, 'backup', 'run', '--json'], { env: cliEnv });
  first = JSON.parse(stdout).snapshotId;
  const drillKey = await app.services.db('backup_keys').where({ kind: 'drill' }).whereNull('retired_at').first('recipient');
  t.truthy(drillKey, 'setup created the drill key');
  t.true((await readManifestFile(first)).recipients.includes(drillKey.recipient), 'the first snapshot is encrypted to the drill key');
  const drill = await runDrill(rt());
  t.true(drill.ok, drill.error);
  t.is(drill.reports[0].snapshotId, first);
});

test.serial('a planted snapshot, encrypted to the real recipients but not signed by the installation, is refused by verify, drill and restore', async (t) => {
  const planted = '29990101T000000Z-000aaa';
  // Removed even when an assertion fails: the planted snapshot is the newest and would be picked by the next tests.
  t.teardown(() => removeSnapshot(planted));
  const attacker = generateKeyPairSync('ed25519');
  const cases: Array<[string, ((s: Buffer) => Buffer) | undefined, RegExp]> = [
    ['no signature', undefined, /carries no signature .* refused, it was not made by this installation/],
    ['signed by another key', (s) => sign(null, s, attacker.privateKey), /signature does not match this installation's backup signing key: refused as planted or altered/],
  ];
  for (const [what, signature, reason] of cases) {
    await plant(planted, first, (m) => (m.tables.patients = 99), signature);
    const [report] = await verifyBackups(rt(), { identities: [offlineKey.identity] });
    t.is(report.snapshotId, planted, what);
    t.false(report.ok, what);
    t.is(report.problems[0].code, 'backup_snapshot_not_signed', what);
    t.regex(report.problems[0].reason, reason, what);
    const drill = await runDrill(rt());
    t.false(drill.ok, what);
    t.regex(drill.error!, reason, what);
    // The drill's audit entry is chained by the sequencer after its commit: fingerprint once it is.
    const before = await settledFingerprint();
    const err = await t.throwsAsync(restoreSnapshot(rt(), { identities: [offlineKey.identity], force: true }));
    t.regex(err!.message, reason, what);
    t.deepEqual(await settledFingerprint(), before, `${what}: the database is untouched`);
  }
  removeSnapshot(planted);
});

test.serial('an altered manifest (re-encrypted, original signature kept) is refused; the real snapshot still verifies', async (t) => {
  const altered = '29990101T000000Z-000bbb';
  t.teardown(() => removeSnapshot(altered));
  cpSync(path.join(targetDir, 'snapshots', first), path.join(targetDir, 'snapshots', altered), { recursive: true });
  const original = readFileSync(path.join(targetDir, signaturePath(first)));
  const m = await readManifestFile(first);
  m.snapshotId = altered;
  m.files = m.files.map((f) => ({ ...f, path: f.path.replace(first, altered) }));
  await writeManifest(altered, m, () => original);
  const [report] = await verifyBackups(rt(), { identities: [offlineKey.identity] });
  t.false(report.ok);
  t.regex(report.problems[0].reason, /refused as planted or altered/);
  removeSnapshot(altered);
  const [good] = await verifyBackups(rt(), { identities: [offlineKey.identity] });
  t.true(good.ok, JSON.stringify(good.problems));
  t.is(good.snapshotId, first);
});

test.serial('a manifest naming a path outside its snapshot is refused, even when signed by the installation', async (t) => {
  const id = '29990101T000000Z-000ccc';
  t.teardown(() => removeSnapshot(id));
  const key = backupSigningKey(app.services.appKey);
  const signed = (s: Buffer) => sign(null, s, key.privateKey);
  const edits: Array<[string, (m: Manifest) => void, RegExp]> = [
    ['traversal in files[].path', (m) => (m.files[0].path = `snapshots/${id}/../../../etc/passwd`), /files: path ".*\.\.\/etc\/passwd" is not the database file of this snapshot/],
    ['absolute files[].path', (m) => (m.files[1].path = '/etc/shadow'), /files: path "\/etc\/shadow" is not the config file/],
    ['traversal in config.appKeyPath', (m) => (m.config.appKeyPath = m.config.paths[0] + '/../../../../etc/shadow'), /config\.paths|config\.appKeyPath/],
    ['relative config path', (m) => (m.config.paths.push('secrets/app.key')), /config\.paths: "secrets\/app\.key" is not a clean absolute path/],
  ];
  for (const [what, edit, reason] of edits) {
    await plant(id, first, edit, signed);
    const [report] = await verifyBackups(rt(), { identities: [offlineKey.identity] });
    t.false(report.ok, what);
    t.regex(report.problems[0].reason, reason, what);
    const err = await t.throwsAsync(restoreSnapshot(rt(), { identities: [offlineKey.identity], force: true }));
    t.regex(err!.message, reason, what);
  }
  removeSnapshot(id);
});

/** A second installation: a migrated database of its own and an empty data directory. */
async function freshInstall(name: string) {
  const db = await createTestDatabase();
  await migrate(db.ownerUrl);
  const dataDir = path.join(work, name);
  const appDb = createDb(db.appUrl, 2);
  const services = buildServices(loadConfig({ PRAXISKERN_DATA_DIR: dataDir, DATABASE_URL: db.appUrl, LOG_LEVEL: 'silent' }), appDb, TEST_KDF);
  return {
    db, dataDir, rt: runtimeFor(services, db.ownerUrl, env),
    async close() {
      await appDb.destroy();
      await db.drop();
    },
  };
}

test.serial('a damaged blob or dump leaves the target database and data directory untouched; the whole snapshot then restores', async (t) => {
  const b = await runBackup(rt());
  t.true(b.ok, b.error);
  const signer = backupSigningKey(app.services.appKey).text;
  const fresh = await freshInstall('fresh');
  try {
    const before = await fingerprint(fresh.db.ownerUrl);
    const { blobs } = await readManifestFile(b.snapshotId);
    const damage = (rel: string) => {
      const file = path.join(targetDir, rel);
      const bytes = readFileSync(file);
      bytes[bytes.length - 20] ^= 0x01;
      writeFileSync(file, bytes);
      return () => {
        bytes[bytes.length - 20] ^= 0x01;
        writeFileSync(file, bytes);
      };
    };
    for (const rel of [blobPath(blobs[blobs.length - 1].id), dbPath(b.snapshotId)]) {
      const repair = damage(rel);
      const err = await t.throwsAsync(restoreSnapshot(fresh.rt, { identities: [offlineKey.identity], signers: [signer] }));
      t.regex(err!.message, /truncated or altered|SHA-256 differs/, rel);
      t.deepEqual(await fingerprint(fresh.db.ownerUrl), before, `${rel}: the database is as it was`);
      t.deepEqual(treeHashes(path.join(fresh.dataDir, 'blobs')), {}, `${rel}: no blob was written`);
      t.false(existsSync(path.join(fresh.dataDir, 'restore')) && readdirSync(path.join(fresh.dataDir, 'restore')).length > 0, `${rel}: no staging left`);
      repair();
    }
    // A new server trusts only what the kit names: without the signing key the snapshot is refused.
    const unknown = await t.throwsAsync(restoreSnapshot(fresh.rt, { identities: [offlineKey.identity] }));
    t.regex(unknown!.message, /pass --signer from the recovery kit/);
    const restored = await restoreSnapshot(fresh.rt, { identities: [offlineKey.identity], signers: [signer] });
    t.is(restored.snapshotId, b.snapshotId);
    t.is(Object.keys(treeHashes(path.join(fresh.dataDir, 'blobs'))).filter((k) => k.includes('/')).length, blobs.length);
    const c = new pg.Client({ connectionString: fresh.db.ownerUrl });
    await c.connect();
    const { rows } = await c.query('select count(*)::int as n from patients');
    await c.end();
    t.is(rows[0].n, 2);
  } finally {
    await fresh.close();
  }
});

test.serial('a signed snapshot whose dump was swapped for another valid age file is refused by restore and drill before a statement of it runs', async (t) => {
  const b = await runBackup(rt());
  t.true(b.ok, b.error);
  const signer = backupSigningKey(app.services.appKey).text;
  const { recipients } = await readManifestFile(b.snapshotId);
  const marker = path.join(work, 'pwned-marker');
  // Built in a database of its own, then encrypted to the snapshot's (public) recipients.
  const source = await createTestDatabase();
  const evil = path.join(work, 'evil.dump');
  try {
    writeFileSync(evil, await maliciousDump(source.ownerUrl, marker));
  } finally {
    await source.drop();
  }
  const dump = path.join(targetDir, dbPath(b.snapshotId));
  const genuine = readFileSync(dump);
  await encryptFile(evil, dump, recipients);
  const fresh = await freshInstall('swapped');
  try {
    const before = await fingerprint(fresh.db.ownerUrl);
    const err = await t.throwsAsync(restoreSnapshot(fresh.rt, { identities: [offlineKey.identity], signers: [signer] }));
    t.false(await hasSchema(fresh.db.ownerUrl, 'pwned'), 'no statement of the swapped dump committed in the target');
    t.deepEqual(await fingerprint(fresh.db.ownerUrl), before, 'the target database is untouched');
    t.regex(err!.message, /db\.dump\.age: (size \d+ differs|SHA-256 differs)/);
    t.false(existsSync(path.join(fresh.dataDir, 'erasure-replay.pending')), 'nothing was committed, so no replay is pending');

    const drill = await runDrill(rt());
    t.false(await hasSchema(drillDatabaseUrl(rt()), 'pwned'), 'no statement of the swapped dump ran in the scratch database');
    t.false(drill.ok);
    t.regex(drill.error!, /db\.dump\.age: (size \d+ differs|SHA-256 differs)/);
    t.false(existsSync(marker), 'no psql meta-command of the swapped dump ran');
    t.false(existsSync(path.join(app.dataDir, 'drill', b.snapshotId)), 'the drill left no copy behind');

    writeFileSync(dump, genuine);
    const again = await runDrill(rt());
    t.true(again.ok, again.error);
  } finally {
    writeFileSync(dump, genuine);
    await fresh.close();
  }
});

async function hasSchema(url: string, name: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query('select to_regnamespace($1) is not null as has', [name]);
    return rows[0].has;
  } finally {
    await c.end();
  }
}
