// The manual restore of docs/backup-format.md — the age CLI, pg_restore and tar, no Praxiskern —
// followed by `praxiskern erasure replay`: a patient erased after the restored snapshot was taken is
// gone again (rows and blobs), and a second replay changes nothing.
import test from 'ava';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { configPath, dbPath, manifestPath, type Manifest } from '../../app/api/src/modules/backup/manifest.ts';
import { runBackup } from '../../app/api/src/modules/backup/snapshot.service.ts';
import { backupSigningKey } from '../../app/api/src/modules/backup/manifest-signature.ts';
import { setupInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';
import { backupEnv, PG_BIN_DIR, runtimeFor, seedPatients, writeIdentityFile } from './backup-fixtures.ts';

const run = promisify(execFile);
const CLI = process.env.PK_TEST_CLI ?? 'appliance/src/cli.ts';
const pgRestore = PG_BIN_DIR ? path.join(PG_BIN_DIR, 'pg_restore') : 'pg_restore';

let app: TestApp;
let fresh: TestDatabase;
let work: string;

test.before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'pk-manual-restore-'));
  app = await startTestApp();
  fresh = await createTestDatabase();
});
test.after.always(async () => {
  await app?.stop();
  await app?.db.drop();
  await fresh?.drop();
  rmSync(work, { recursive: true, force: true });
});

const sh = (script: string, env: Record<string, string> = {}) => run('sh', ['-c', script], { cwd: work, env: { ...process.env, ...env }, maxBuffer: 64 << 20 });

test.serial('after a manual age + pg_restore of an older snapshot, `praxiskern erasure replay` erases the patient again; a second replay changes nothing', async (t) => {
  const { client } = await setupInstance(app);
  const [keep, erase] = await seedPatients(client, 2, 1);
  const target = path.join(work, 'target');
  mkdirSync(target);
  const rt = runtimeFor(app.services, app.db.ownerUrl, backupEnv([`nas=local:${target}`]));
  const older = await runBackup(rt);
  t.true(older.ok, older.error);
  // The clinic's copy of that day's snapshot (retention on the target keeps one snapshot a day).
  const copy = path.join(work, 'copy');
  cpSync(target, copy, { recursive: true });
  const res = await client.post(`/api/v1/patients/${erase}/erasure`, { confirm: true, override: true, reason: 'Art. 17 request (test)' });
  t.is(res.status, 200, res.text);
  const newer = await runBackup(rt);
  t.true(newer.ok, newer.error);

  // The new server: an empty database, an empty data directory; the documented commands only.
  const key = writeIdentityFile(work);
  // 0. The manifest is the installation's: openssl checks its signature with the kit's signing key.
  const S = path.join(copy, 'snapshots', older.snapshotId);
  const signer = backupSigningKey(app.services.appKey).text;
  const verified = await sh(
    `printf -- '-----BEGIN PUBLIC KEY-----\\n%s\\n-----END PUBLIC KEY-----\\n' "$SIGNER" > signer.pem && ` +
      `openssl pkeyutl -verify -pubin -inkey signer.pem -rawin -in "$S/manifest.json.age" -sigfile "$S/manifest.json.age.sig"`,
    { SIGNER: signer, S },
  );
  t.regex(verified.stdout, /Signature Verified Successfully/);
  const dataDir = path.join(work, 'new-server');
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  await sh(`age -d -i ${q(key)} ${q(path.join(copy, dbPath(older.snapshotId)))} | ${q(pgRestore)} --single-transaction --exit-on-error --no-password --dbname=${q(fresh.ownerUrl)}`);
  const manifest: Manifest = JSON.parse((await sh(`age -d -i ${q(key)} ${q(path.join(copy, manifestPath(older.snapshotId)))}`)).stdout);
  const dumpBytes = Number((await sh(`age -d -i ${q(key)} ${q(path.join(copy, dbPath(older.snapshotId)))} | wc -c`)).stdout.trim());
  t.is(manifest.files.find((f) => f.role === 'database')!.plainBytes, dumpBytes, 'plainBytes is the size of the pg_dump output');
  for (const b of manifest.blobs) {
    mkdirSync(path.join(dataDir, 'blobs', b.id.slice(0, 2)), { recursive: true });
    await sh(`age -d -i ${q(key)} -o ${q(path.join(dataDir, 'blobs', b.id.slice(0, 2), b.id))} ${q(path.join(copy, 'blobs', b.id.slice(0, 2), `${b.id}.age`))}`);
  }
  // The newest configuration archive carries the erasure-ledger file with the later erasure.
  const config = path.join(work, 'restored-config');
  mkdirSync(config, { mode: 0o700 });
  await sh(`age -d -i ${q(key)} ${q(path.join(target, configPath(newer.snapshotId)))} | tar -x -C ${q(config)}`);
  const ledger = path.join(config, app.dataDir.replace(/^\/+/, ''), 'ledger', 'erasure-ledger.jsonl');
  t.true(existsSync(ledger));

  const patients = async () => {
    const c = new pg.Client({ connectionString: fresh.ownerUrl });
    await c.connect();
    const { rows } = await c.query('select id from patients order by id');
    await c.end();
    return rows.map((r) => r.id);
  };
  t.deepEqual((await patients()).sort(), [keep, erase].sort(), 'the older snapshot brought the erased patient back');
  const blobsOnDisk = () => readdirSync(path.join(dataDir, 'blobs'), { recursive: true }).filter((p) => String(p).includes('/')).length;
  t.is(blobsOnDisk(), 2);

  const cliEnv = { ...process.env, PRAXISKERN_DATA_DIR: dataDir, DATABASE_URL: fresh.appUrl, DATABASE_OWNER_URL: fresh.ownerUrl, LOG_LEVEL: 'silent' };
  const replay = await run(process.execPath, [CLI, 'erasure', 'replay', '--ledger-file', ledger, '--json'], { env: cliEnv });
  const out = JSON.parse(replay.stdout);
  t.deepEqual(out.patientsErasedAgain, [erase]);
  t.is(out.ledgerEntriesMerged, 1);
  t.is(out.blobsDeleted, 1);
  t.deepEqual(await patients(), [keep]);
  t.is(blobsOnDisk(), 1, 'the erased patient\'s photo is gone too');
  t.regex(readFileSync(path.join(dataDir, 'ledger', 'erasure-ledger.jsonl'), 'utf8'), new RegExp(erase));

  const again = await run(process.execPath, [CLI, 'erasure', 'replay'], { env: cliEnv });
  t.regex(again.stdout, /^Erasure ledger: 1 entry\.\n0 patient\(s\) erased again, 0 blob\(s\) deleted\. Nothing an erasure removed was present\.\n$/);
  t.deepEqual(await patients(), [keep]);
});
