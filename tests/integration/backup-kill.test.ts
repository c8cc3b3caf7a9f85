// kill -9 at random points of a backup (in a child process, against a real SFTP server) never
// leaves a complete-looking broken snapshot, and the next run succeeds.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { runBackup } from '../../app/api/src/modules/backup/snapshot.service.ts';
import { verifySnapshotOn, completeSnapshots } from '../../app/api/src/modules/backup/verify.service.ts';
import { setupInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import { startSshd, type Sshd } from '../helpers/sshd.ts';
import { backupEnv, offlineKey, runtimeFor, seedPatients, sftpSpec } from './backup-fixtures.ts';

let sshd: Sshd;
let app: TestApp;
let work: string;

test.before(async () => {
  sshd = await startSshd();
  work = mkdtempSync(path.join(tmpdir(), 'pk-backup-kill-'));
  app = await startTestApp();
  const { client } = await setupInstance(app);
  await seedPatients(client, 3, 2);
});
test.after.always(async () => {
  await app?.stop();
  await app?.db.drop();
  await sshd?.stop();
  rmSync(work, { recursive: true, force: true });
});

const PHASES = ['prepare', 'database', 'blobs', 'config', 'manifest', 'retention'];

/** Runs the child; SIGKILLs it `delayMs` after the first progress event of `phase`. */
function killDuring(env: NodeJS.ProcessEnv, phase: string, delayMs: number): Promise<{ killed: boolean; seen: string[] }> {
  const child = spawn(process.execPath, [path.resolve('tests/integration/backup-child.ts')], {
    env: { ...process.env, LOG_LEVEL: 'silent', PK_CHILD: JSON.stringify({ appUrl: app.db.appUrl, ownerUrl: app.db.ownerUrl, dataDir: app.dataDir, env }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const seen: string[] = [];
  let armed = false;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const p = line.startsWith('P ') ? line.slice(2) : line;
    if (seen[seen.length - 1] !== p) seen.push(p);
    if (!armed && p === phase) {
      armed = true;
      setTimeout(() => child.kill('SIGKILL'), delayMs);
    }
  });
  return new Promise((resolve) => child.on('exit', (_code, signal) => resolve({ killed: signal === 'SIGKILL', seen })));
}

test.serial('kill -9 at random points never leaves a complete-looking broken snapshot; the next run succeeds', async (t) => {
  const env = backupEnv([sftpSpec(sshd, 'kill')]);
  const rt = runtimeFor(app.services, app.db.ownerUrl, env);
  let kills = 0;
  for (let trial = 0; trial < 10; trial++) {
    const phase = PHASES[trial % PHASES.length];
    const t0 = Date.now();
    const { killed, seen } = await killDuring(env, phase, Math.floor(Math.random() * 25));
    const t1 = Date.now();
    if (killed) kills++;
    t.log(`trial ${trial}: kill during ${phase} → ${killed ? 'killed' : 'finished'} after ${seen.join(' → ')}`);
    // Whatever the child left: every snapshot that looks complete is complete and decrypts.
    const [target] = rt.targets();
    try {
      for (const id of await completeSnapshots(target)) {
        const report = await verifySnapshotOn(rt, target, id, [offlineKey.identity]);
        t.true(report.ok, `trial ${trial}: snapshot ${id} looks complete but is not: ${JSON.stringify(report.problems[0])}`);
      }
    } finally {
      await target.close();
    }
    t.log(`  child ${t1 - t0} ms, verify ${Date.now() - t1} ms`);
  }
  t.true(kills >= 9, `${kills} of 10 trials were killed mid-run`);

  const next = await runBackup(rt);
  t.true(next.ok, next.error);
  t.log(`next run: ${next.durationSeconds} s`);
  const [target] = rt.targets();
  const complete = await completeSnapshots(target);
  const listing = (await target.list('snapshots/')).map((e) => e.path);
  await target.close();
  t.true(complete.includes(next.snapshotId));
  t.true(listing.every((p) => complete.some((id) => p.startsWith(`snapshots/${id}/`))), 'no leftovers of killed runs');
  const jobs = await app.services.db('backup_jobs').where({ kind: 'backup' }).select('status', 'error');
  t.false(jobs.some((j) => j.status === 'running'), 'killed runs are marked failed');
  t.true(jobs.filter((j) => j.status === 'failed').every((j) => /interrupted/.test(j.error)));
});
