// Where a CLI command finds its database: DATABASE_URL; else the embedded cluster that a running
// `praxiskern start` already serves from the data directory (reused, never started twice); else an
// embedded cluster started for this command and stopped afterwards.
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Config } from '@praxiskern/api/core/config.ts';
import { withCredentials, withDatabase, OWNER_ROLE, APP_ROLE } from '@praxiskern/api/db/provision.ts';
import { resolveDatabase } from '@praxiskern/api/server.ts';

export interface CliDatabase {
  appUrl: string;
  /** Undefined where this process holds the application role only (the bundle's app container). */
  ownerUrl: string | undefined;
  /** Whether this command started the embedded cluster itself. */
  started: boolean;
  stop(): Promise<void>;
}

const embeddedPort = (env: NodeJS.ProcessEnv) => Number(env.PRAXISKERN_EMBEDDED_PG_PORT || 54329);

/** The port of the embedded cluster if its postmaster is alive (postmaster.pid: line 1 pid, line 4 port). */
export function runningEmbeddedPort(dataDir: string): number | undefined {
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const lines = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port)) return undefined;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined; // stale file: PostgreSQL removes it on start
  }
  return port;
}

/** Refuses early, with the reason, when another program holds the embedded cluster's port. */
export function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === 'EADDRINUSE'
        ? `port ${port} is already in use by another program: stop it or choose another port with PRAXISKERN_EMBEDDED_PG_PORT`
        : `cannot use port ${port} for the embedded PostgreSQL: ${err.code ?? err.message}`)),
    );
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}

export async function cliDatabase(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<CliDatabase> {
  if (config.databaseUrl) {
    return { appUrl: config.databaseUrl, ownerUrl: config.ownerDatabaseUrl, started: false, stop: async () => {} };
  }
  const running = runningEmbeddedPort(config.dataDir);
  if (running !== undefined) {
    const secret = (f: string) => {
      const file = path.join(config.dataDir, 'secrets', f);
      if (!existsSync(file)) throw new Error(`the embedded PostgreSQL is running but ${file} is missing`);
      return readFileSync(file, 'utf8').trim();
    };
    const base = withDatabase(`postgres://x@127.0.0.1:${running}/postgres`, 'praxiskern');
    return {
      appUrl: withCredentials(base, APP_ROLE, secret('pg-app.password')),
      ownerUrl: withCredentials(base, OWNER_ROLE, secret('pg-owner.password')),
      started: false,
      stop: async () => {},
    };
  }
  await assertPortFree(embeddedPort(env));
  const urls = await resolveDatabase(config, env);
  return { appUrl: urls.appUrl, ownerUrl: urls.ownerUrl, started: true, stop: async () => urls.embedded?.stop() };
}
