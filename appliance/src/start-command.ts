// `praxiskern start`: the process that serves HTTP holds only the application role.
// - `start --worker` (the bundle's worker): API port, schedules, queued backups/drills, host checks;
//   needs DATABASE_URL and DATABASE_OWNER_URL.
// - `start` with DATABASE_URL and no owner URL (the bundle's app): serves HTTP with the app role.
// - `start` where the owner is known (npm start on the embedded PostgreSQL, or DATABASE_OWNER_URL
//   given): applies the migrations, then runs the API and a worker as two child processes; only the
//   worker's environment carries the owner's connection string.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { loadConfig, type Config } from '@praxiskern/api/core/config.ts';
import { migrate, resolveDatabase, startServer } from '@praxiskern/api/server.ts';
import { isInitialized } from '@praxiskern/api/modules/setup/setup.repository.ts';
import { fail, type Command } from './command.ts';

const CLI = path.join(import.meta.dirname, 'cli.ts');

async function serve(config: Config, role: 'api' | 'worker'): Promise<number> {
  const server = await startServer(config);
  if (role === 'worker') process.stdout.write(`Praxiskern worker ${server.services.version} is running (backups, restore drills, schedules)\n`);
  else {
    process.stdout.write(`Praxiskern ${server.services.version} is running at ${config.publicUrl} (listening on ${server.url})\n`);
    if (!(await isInitialized(server.services.db))) process.stdout.write(`Not set up yet: open ${config.publicUrl}/setup to set up Praxiskern (or run "praxiskern init").\n`);
    else if (server.services.seal.isSealed) process.stdout.write('The server is sealed: open the URL and unseal, or run "praxiskern unseal".\n');
  }
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await new Promise(() => {});
  return 0;
}

function child(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { env, stdio: 'inherit' });
}

async function supervise(config: Config): Promise<number> {
  const urls = await resolveDatabase(config);
  const stopDatabase = async () => urls.embedded?.stop();
  try {
    await migrate(urls.ownerUrl);
  } catch (err) {
    await stopDatabase();
    throw err;
  }
  const { DATABASE_OWNER_URL: _owner, ...base } = process.env;
  const workerSocket = path.join(config.dataDir, 'run', 'worker.sock');
  const workerMetricsPort = config.metricsPort === 0 ? 0 : config.metricsPort + 1;
  const processes = [
    child(['start'], { ...base, DATABASE_URL: urls.appUrl, PRAXISKERN_RUN_SCHEDULES: 'false', PRAXISKERN_WORKER_SOCKET: workerSocket }),
    child(['start', '--worker'], {
      ...base, DATABASE_URL: urls.appUrl, DATABASE_OWNER_URL: urls.ownerUrl, HOST: '127.0.0.1', PORT: '0',
      METRICS_PORT: String(workerMetricsPort), PRAXISKERN_ADMIN_SOCKET: workerSocket,
    }),
  ];
  const exited = processes.map((p) => new Promise<number>((resolve) => p.once('exit', (code) => resolve(code ?? 1))));
  let stopping = false;
  const stopAll = () => {
    stopping = true;
    for (const p of processes) if (p.exitCode === null) p.kill('SIGTERM');
  };
  process.once('SIGTERM', stopAll);
  process.once('SIGINT', stopAll);
  const first = await Promise.race(exited);
  if (!stopping) process.stderr.write(`praxiskern: a ${first === 0 ? 'process ended' : 'process failed'}; stopping the others\n`);
  stopAll();
  const codes = await Promise.all(exited);
  await stopDatabase();
  return stopping && first === 0 ? 0 : Math.max(1, ...codes);
}

export const start: Command = {
  usage: `praxiskern start [--worker]   run Praxiskern. Without DATABASE_URL (npm start) or with DATABASE_OWNER_URL:
migrations, then the API/UI and a worker as two processes (only the worker holds the owner role).
With DATABASE_URL alone: the API/UI only (the bundle's app). --worker: the bundle's worker, which runs
backups, restore drills (scheduled and requested in the UI) and the other schedules.`,
  options: { worker: { type: 'boolean' } },
  async run(v) {
    const config = loadConfig();
    if (v.worker) {
      if (!config.databaseUrl || !config.ownerDatabaseUrl) fail('start --worker needs DATABASE_URL and DATABASE_OWNER_URL');
      config.runSchedules = true;
      return serve(config, 'worker');
    }
    if (config.databaseUrl && !config.ownerDatabaseUrl) {
      config.runSchedules = false;
      return serve(config, 'api');
    }
    return supervise(config);
  },
};
