// The restore drill, retention with blob pruning, the admin API and the CLI, on a local target.
import test from 'ava';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { runDrill, drillDatabaseUrl } from '../../app/api/src/modules/backup/drill.service.ts';
import { runBackup } from '../../app/api/src/modules/backup/snapshot.service.ts';
import { withScope } from '../../app/api/src/db/connection.ts';
import { blobPath, dbPath } from '../../app/api/src/modules/backup/manifest.ts';
import { identityToRecipient } from '../../app/api/src/modules/backup/age/index.ts';
import { backupSigningKey } from '../../app/api/src/modules/backup/manifest-signature.ts';
import { setupInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import { Client as HttpClient, type Client } from '../helpers/http-client.ts';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../app/api/src/http/app.ts';
import { ROUTES } from '../../app/api/src/http/routes.ts';
import { backupRoutes } from '../../app/api/src/http/routes.backup.ts';
import { backupEnv, metricValue, offlineKey, runtimeFor, seedPatients, writeIdentityFile } from './backup-fixtures.ts';

const run = promisify(execFile);
const CLI = process.env.PK_TEST_CLI ?? 'appliance/src/cli.ts';

/** The app's routes plus the backup routes (mounted once, whether or not routes.ts lists them yet). */
async function withBackupRoutes(): Promise<Client> {
  const routes = ROUTES.some((r) => r.path === '/backup/status') ? ROUTES : [...ROUTES, ...backupRoutes];
  const server = http.createServer(createApp(app.services, routes).callback());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  servers.push(server);
  const client = new HttpClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  for (const [k, v] of admin.cookies) client.cookies.set(k, v);
  return client;
}
const servers: http.Server[] = [];
let app: TestApp;
let admin: Client;
let work: string;
let targetDir: string;
let env: NodeJS.ProcessEnv;

test.before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'pk-backup-ops-'));
  targetDir = path.join(work, 'target');
  mkdirSync(targetDir);
  app = await startTestApp();
  ({ client: admin } = await setupInstance(app));
  await seedPatients(admin, 3, 1);
  env = backupEnv([`nas=local:${targetDir}`]);
  // The scratch database of the drill is created by provisioning (tests/helpers/pg.ts → provisionDatabase).
  const name = new URL(drillDatabaseUrl(runtimeFor(app.services, app.db.ownerUrl, env))).pathname.slice(1);
  if (name !== `${app.db.name}_drill`) throw new Error(`unexpected drill database ${name}`);
});
test.after.always(async () => {
  for (const s of servers) s.closeAllConnections(), s.close();
  await app?.stop();
  const c = new pg.Client({ connectionString: app.db.superuserUrl.replace(/\/[^/]+$/, '/postgres') });
  await c.connect();
  await c.query(`drop database if exists ${app.db.name}_drill with (force)`);
  await c.end();
  await app?.db.drop();
  rmSync(work, { recursive: true, force: true });
});

test.serial('the restore drill restores the newest snapshot into the scratch database and checks it against the manifest', async (t) => {
  const rt = runtimeFor(app.services, app.db.ownerUrl, env);
  const b = await runBackup(rt);
  t.true(b.ok, b.error);
  const d = await runDrill(rt);
  t.true(d.ok, d.error);
  t.is(d.reports[0].snapshotId, b.snapshotId);
  t.true(d.reports[0].rows! > 10);
  t.is(await metricValue(app.services, 'praxiskern_backup_drill_last_success'), 1);
  t.truthy(await metricValue(app.services, 'praxiskern_backup_drill_last_timestamp_seconds'));
  const scratch = new pg.Client({ connectionString: drillDatabaseUrl(rt) });
  await scratch.connect();
  const { rows } = await scratch.query(`select count(*)::int as n from pg_tables where schemaname = 'public'`);
  await scratch.end();
  t.is(rows[0].n, 0, 'the scratch database is emptied again');
  const drillAudit = await withScope(app.services.db, { organizationId: null, installation: true }, (trx) =>
    trx('audit_log').whereNull('organization_id').where({ action: 'backup.drill', object_id: d.jobId }).first('outcome', 'details'));
  t.deepEqual(drillAudit, { outcome: 'success', details: { targets: { nas: true } } }, 'the drill is in the installation audit chain');

  // A damaged dump fails the drill with a clear reason and a failure metric.
  const file = path.join(targetDir, dbPath(b.snapshotId));
  const bytes = readFileSync(file);
  bytes[bytes.length - 100] ^= 0xff;
  writeFileSync(file, bytes);
  const bad = await runDrill(rt);
  t.false(bad.ok);
  t.regex(bad.error!, /^nas: snapshots\/.*db\.dump\.age: .*truncated or altered/);
  t.is(await metricValue(app.services, 'praxiskern_backup_drill_last_success'), 0);
  t.is(await metricValue(app.services, 'praxiskern_backup_failures_total', { kind: 'drill', target: 'nas' }), 1);

  // While sealed there is no drill key.
  app.services.seal.seal();
  const sealed = await runDrill(rt);
  t.false(sealed.ok);
  t.regex(sealed.error!, /sealed/);
  await app.services.seal.unseal(app.services.db, 'practice passphrase for tests');
});

test.serial('retention prunes older snapshots and the blobs only they held; unknown snapshots keep their blobs', async (t) => {
  const rt = runtimeFor(app.services, app.db.ownerUrl, env);
  const before = await runBackup(rt);
  t.true(before.ok);
  // A patient erased since (Art. 17; removing a document only hides it): the blob of its one
  // document is held only by the older snapshot.
  const { body } = await admin.get('/api/v1/patients?limit=1');
  const pid = body.items[0].id;
  const blobId = (await app.services.db('backup_blobs').where({ target: 'nas' }).select('blob_id')).map((r) => r.blob_id);
  const del = await admin.post(`/api/v1/patients/${pid}/erasure`, { confirm: true });
  t.is(del.status, 200, del.text);

  const after = await runBackup(rt);
  t.true(after.ok, after.error);
  const prune = after.targets.nas.prune!;
  t.deepEqual(prune.kept, [after.snapshotId], 'one snapshot a day is kept (daily 7 / weekly 4 / monthly 12)');
  t.true(prune.snapshotsPruned.includes(before.snapshotId));
  t.is(prune.blobsPruned, 1);
  const remaining = blobId.filter((id) => existsSync(path.join(targetDir, blobPath(id))));
  t.is(remaining.length, blobId.length - 1);

  // A complete snapshot the catalog does not know (copied in from elsewhere): blobs stay.
  cpSync(path.join(targetDir, 'snapshots', after.snapshotId), path.join(targetDir, 'snapshots', '20250101T000000Z-abcdef'), { recursive: true });
  const third = await runBackup(rt);
  t.true(third.ok);
  t.deepEqual(third.targets.nas.prune!.kept, [third.snapshotId, '20250101T000000Z-abcdef'], JSON.stringify(third.targets.nas.prune));
  t.regex(third.targets.nas.prune!.blobPruneSkipped!, /does not know snapshot\(s\) 20250101T000000Z-abcdef/);
});

test.serial('the admin API shows status and snapshots, starts a backup, and hands out the recovery kit once', async (t) => {
  // The runtimes read the environment; point the API's (status) and the worker's (the run) at the same target.
  runtimeFor(app.services, app.db.ownerUrl, env);
  runtimeFor(app.worker.services, app.db.ownerUrl, env);
  const admin = await withBackupRoutes();
  const started = await admin.post('/api/v1/backup/runs');
  t.is(started.status, 202, started.text);
  t.truthy(started.body.jobId);
  const deadline = Date.now() + 20_000;
  let job;
  do {
    job = (await admin.get('/api/v1/backup/jobs?kind=backup&limit=1')).body.jobs[0];
  } while (job.status === 'running' && Date.now() < deadline && (await new Promise((r) => setTimeout(r, 100)), true));
  t.is(job.id, started.body.jobId);
  t.is(job.status, 'succeeded', String(job.error));
  const status = await admin.get('/api/v1/backup/status');
  t.is(status.status, 200);
  t.is(status.body.targets[0].name, 'nas');
  t.true(status.body.targets[0].lastRunOk);
  t.is(status.body.lastDrill.status, 'failed');
  const snaps = await admin.get('/api/v1/backup/snapshots?target=nas');
  t.is(snaps.body.snapshots[0].id, job.snapshotId);

  // Setup already showed one kit; a new one (here split into shares) replaces it.
  const kit = await admin.post('/api/v1/backup/recovery-kit', { shares: { threshold: 2, count: 3 }, replace: true });
  t.is(kit.status, 200, kit.text);
  t.is(kit.headers.get('cache-control'), 'no-store');
  t.is(kit.body.shares.length, 3);
  t.is(kit.body.identity, undefined, 'with shares the whole identity is nowhere');
  t.regex(kit.body.html, /Verwahrer-Teil 3 von 3/, 'the kit speaks the language of the admin (German)');
  // Every page names the public key that the snapshots are signed with: a new server verifies with it.
  t.is(kit.body.signer, backupSigningKey(app.services.appKey).text);
  t.is(kit.body.html.replace(/&#8203;/g, '').split(kit.body.signer).length - 1, 3, 'each custodian page shows the signing key');
  const again = await admin.post('/api/v1/backup/recovery-kit', {});
  t.is(again.status, 409);
  const keys = await app.services.db('backup_keys').where({ kind: 'recovery' }).whereNull('retired_at').select('recipient', 'wrapped_identity');
  t.deepEqual(keys, [{ recipient: kit.body.recipient, wrapped_identity: null }], 'the server keeps only the recipient');

  // The CLI recombines two shares into the identity of that recipient.
  writeFileSync(path.join(work, 's1'), kit.body.shares[0]);
  writeFileSync(path.join(work, 's3'), kit.body.shares[2]);
  const { stdout } = await run(process.execPath, [CLI, 'recovery-kit', 'combine', path.join(work, 's1'), path.join(work, 's3'), '--json']);
  t.is(identityToRecipient(JSON.parse(stdout).identity), kit.body.recipient);
});

test.serial('the CLI runs, lists and verifies backups with --json, and fails with one line and exit 1', async (t) => {
  const cliEnv = {
    ...process.env, ...env, PRAXISKERN_DATA_DIR: app.dataDir, DATABASE_URL: app.db.appUrl, DATABASE_OWNER_URL: app.db.ownerUrl, LOG_LEVEL: 'silent',
  };
  const cli = (args: string[]) => run(process.execPath, [CLI, ...args], { env: cliEnv }).then(
    (r) => ({ code: 0, ...r }),
    (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
  );
  const backup = await cli(['backup', 'run', '--json']);
  t.is(backup.code, 0, backup.stderr);
  const snapshotId = JSON.parse(backup.stdout).snapshotId;
  const list = await cli(['backup', 'list', '--json']);
  t.is(JSON.parse(list.stdout).snapshots[0].snapshot_id, snapshotId);
  const verify = await cli(['backup', 'verify', '--identity-file', writeIdentityFile(work), '--json']);
  t.is(verify.code, 0, verify.stderr);
  t.true(JSON.parse(verify.stdout).reports[0].ok);
  const human = await cli(['backup', 'verify', '--identity-file', writeIdentityFile(work, 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQSCWV3Y')]);
  t.is(human.code, 1);
  t.regex(human.stderr, /^praxiskern: [^\n]+\n$/);
  const noKey = await cli(['restore', '--json']);
  t.is(noKey.code, 1);
  t.deepEqual(JSON.parse(noKey.stdout), { ok: false, error: '--identity-file is required (the recovery kit identity; see praxiskern recovery-kit combine for shares)' });
  void offlineKey;
});
