// `praxiskern start` where the owner's credentials are known (npm start; here with an external
// database): it migrates, then runs the API and the worker as two processes, and only the worker's
// environment carries the owner's connection string. SIGTERM stops both.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTestDatabase } from '../helpers/pg.ts';

/** Environment of every process whose command line is `cli.ts start …`, by pid. */
function startProcesses(): Map<number, { args: string; env: Record<string, string> }> {
  const out = new Map<number, { args: string; env: Record<string, string> }>();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (!args.includes('cli.ts start')) continue;
      const env = Object.fromEntries(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      out.set(Number(pid), { args, env });
    } catch {
      /* the process ended */
    }
  }
  return out;
}

test('start runs the API without the owner role and a worker with it, as separate processes', async (t) => {
  const db = await createTestDatabase();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pk-start-'));
  t.teardown(async () => {
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const child = spawn(process.execPath, ['appliance/src/cli.ts', 'start'], {
    env: { ...process.env, PORT: '0', METRICS_PORT: '0', PRAXISKERN_DATA_DIR: dataDir, DATABASE_URL: db.appUrl, DATABASE_OWNER_URL: db.ownerUrl, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const deadline = Date.now() + 60_000;
  while (!(/listening on (http:\/\/\S+)\)/.test(stdout) && /worker .* is running/.test(stdout)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const url = /listening on (http:\/\/\S+)\)/.exec(stdout)?.[1];
  t.truthy(url, stdout);
  const ready = await (await fetch(`${url}/readyz`)).json();
  t.like(ready, { database: 'ok', initialized: false }, 'the supervisor applied the migrations before the API started');

  const children = [...startProcesses().entries()].filter(([pid, p]) => pid !== child.pid && p.env.PRAXISKERN_DATA_DIR === dataDir);
  const api = children.find(([, p]) => !p.args.includes('--worker'));
  const worker = children.find(([, p]) => p.args.includes('--worker'));
  t.truthy(api && worker, JSON.stringify(children.map(([pid, p]) => [pid, p.args])));
  t.false('DATABASE_OWNER_URL' in api![1].env, 'the process that serves HTTP has no owner connection string');
  t.false(Object.values(api![1].env).some((v) => v.includes(new URL(db.ownerUrl).password)), 'nor the owner password anywhere in its environment');
  t.is(worker![1].env.DATABASE_OWNER_URL, db.ownerUrl);

  child.kill('SIGTERM');
  t.is(await exited, 0);
  await new Promise((r) => setTimeout(r, 200));
  t.deepEqual([...startProcesses().values()].filter((p) => p.env.PRAXISKERN_DATA_DIR === dataDir), [], 'both processes ended');
});
