// Issue 8 item 4: the process that serves HTTP holds the application role only. A backup or drill
// asked for through the API is queued; the worker (owner role, as in the appliance) runs it and
// the outcome is reported through the API. Item 5: recovery-kit files left on the server are
// reported by `praxiskern status`, the backup status the admin UI shows, and a metric.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { setupInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import type { Client } from '../helpers/http-client.ts';
import { backupEnv, metricValue, seedPatients } from './backup-fixtures.ts';

const run = promisify(execFile);
let app: TestApp;
let admin: Client;
let work: string;
let kitDir: string;

test.before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'pk-backup-req-'));
  const target = path.join(work, 'target');
  kitDir = path.join(work, 'recovery-kit');
  mkdirSync(target);
  mkdirSync(kitDir);
  writeFileSync(path.join(kitDir, 'passphrase'), 'left behind\n', { mode: 0o600 });
  writeFileSync(path.join(kitDir, 'init.json'), '{}\n', { mode: 0o600 });
  // The backup runtimes of API and worker read the process environment, as in the appliance.
  Object.assign(process.env, backupEnv([`nas=local:${target}`]));
  app = await startTestApp({ PRAXISKERN_RECOVERY_KIT_DIR: kitDir });
  ({ client: admin } = await setupInstance(app));
  await seedPatients(admin, 2, 1);
});

test.after.always(async () => {
  await app?.stop();
  await app?.db.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function finished(kind: 'backup' | 'drill', jobId: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const job = (await admin.get(`/api/v1/backup/jobs?kind=${kind}&limit=5`)).body.jobs.find((j: { id: string }) => j.id === jobId);
    if ((job && job.status !== 'running') || Date.now() > deadline) return job;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test.serial('the server that answers the API holds only the application role and cannot act as the database owner; the worker serves no API', async (t) => {
  t.is(app.config.ownerDatabaseUrl, undefined);
  const { rows } = await app.services.db.raw('select current_user as u');
  t.is(rows[0].u, 'praxiskern_app');
  // It may queue a request, but not mark one done, start one itself or touch the schema.
  await t.throwsAsync(app.services.db('backup_requests').update({ status: 'succeeded' }), { message: /permission denied/ });
  await t.throwsAsync(app.services.db.raw('create table owned_by_app (x int)'), { message: /permission denied/ });
  await t.throwsAsync(app.services.db.raw('alter table patients disable row level security'), { message: /must be owner/ });
  // The worker, which holds the owner role, answers health checks only, never the API.
  t.is((await fetch(`${app.worker.url}/healthz`)).status, 200);
  t.is((await fetch(`${app.worker.url}/api/v1/session`)).status, 404);
  t.is((await fetch(`${app.worker.url}/api/v1/backup/status`)).status, 404);
});

test.serial('a backup requested through the API is run by the worker and its outcome is reported', async (t) => {
  const started = await admin.post('/api/v1/backup/runs');
  t.is(started.status, 202, started.text);
  t.truthy(started.body.jobId, 'the worker started the job within the wait');
  const job = await finished('backup', started.body.jobId);
  t.is(job.status, 'succeeded', String(job.error));
  t.truthy(job.snapshotId);
  // The request row records who asked, that the worker ran it, and the outcome.
  const owner = new pg.Client({ connectionString: app.db.ownerUrl });
  await owner.connect();
  t.teardown(() => owner.end());
  const { rows } = await owner.query('select status, job_id, requested_by, error from backup_requests where id = $1', [started.body.requestId]);
  t.like(rows[0], { status: 'succeeded', job_id: started.body.jobId, error: null });
  t.truthy(rows[0].requested_by);
  const status = (await admin.get('/api/v1/backup/status')).body;
  t.true(status.targets[0].lastRunOk);
  t.deepEqual(status.requests, [], 'nothing is left in the queue');
  const snaps = (await admin.get('/api/v1/backup/snapshots?target=nas')).body.snapshots;
  t.is(snaps[0].id, job.snapshotId);
});

test.serial('a restore drill requested through the API runs in the worker, which the setup unsealed too', async (t) => {
  t.false(app.worker.services.seal.isSealed, 'the API handed the passphrase to the worker at setup');
  const started = await admin.post('/api/v1/backup/drills');
  t.is(started.status, 202, started.text);
  const job = await finished('drill', started.body.jobId);
  t.is(job.status, 'succeeded', String(job.error));
});

test.serial('recovery-kit files left on the server show in praxiskern status, the backup status and a metric', async (t) => {
  const status = (await admin.get('/api/v1/backup/status')).body;
  t.deepEqual(status.recoveryKitFilesOnServer, ['init.json', 'passphrase']);
  const env = { ...process.env, PRAXISKERN_DATA_DIR: app.dataDir, LOG_LEVEL: 'silent' };
  const { stdout } = await run(process.execPath, ['appliance/src/cli.ts', 'status'], { env });
  t.regex(stdout, /WARNING: recovery-kit files are still on this server: init\.json, passphrase/);
  const json = JSON.parse((await run(process.execPath, ['appliance/src/cli.ts', 'status', '--json'], { env })).stdout);
  t.deepEqual(json.recoveryKitFilesOnServer, ['init.json', 'passphrase']);
  t.is(await metricValue(app.worker.services, 'praxiskern_recovery_kit_files_on_server'), 2);
});

test.serial('while the worker is down a request waits in the queue, a second one is refused, and the worker runs it when it is back', async (t) => {
  await app.worker.close();
  const queued = await admin.post('/api/v1/backup/runs');
  t.is(queued.status, 202, queued.text);
  t.is(queued.body.jobId, null);
  t.is(queued.body.status, 'queued');
  const second = await admin.post('/api/v1/backup/runs');
  t.is(second.status, 409);
  const status = (await admin.get('/api/v1/backup/status')).body;
  t.like(status.requests[0], { id: queued.body.requestId, kind: 'backup', status: 'queued' });
  // The worker comes back (as the bundle restarts it) and takes the queue.
  const again = await startTestApp({ PRAXISKERN_RECOVERY_KIT_DIR: kitDir }, { db: app.db, dataDir: app.dataDir });
  t.teardown(() => again.stop());
  const deadline = Date.now() + 60_000;
  let request;
  do {
    request = (await again.worker.services.db('backup_requests').where({ id: queued.body.requestId }).first('status', 'job_id', 'error'));
  } while (request.status !== 'succeeded' && request.status !== 'failed' && Date.now() < deadline && (await new Promise((r) => setTimeout(r, 200)), true));
  t.is(request.status, 'succeeded', String(request.error));
  t.truthy(request.job_id);
});
