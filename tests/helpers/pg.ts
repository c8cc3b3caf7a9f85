// One PostgreSQL cluster per test run (started by tests/run.ts, or lazily here), one fresh
// database per test file: real PostgreSQL, real roles, real row-level security.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../app/api/src/db/embedded.ts';
import { provisionDatabase, withCredentials, withDatabase, OWNER_ROLE, APP_ROLE } from '../../app/api/src/db/provision.ts';

export const TEST_ROLE_PASSWORDS = { ownerPassword: 'test-owner-password', appPassword: 'test-app-password' };

let cluster: Promise<string> | undefined;

/** The superuser URL of the run's cluster: PRAXISKERN_TEST_PG_URL or an embedded one. */
export function clusterUrl(): Promise<string> {
  if (process.env.PRAXISKERN_TEST_PG_URL) return Promise.resolve(process.env.PRAXISKERN_TEST_PG_URL);
  cluster ??= (async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pk-pg-'));
    const port = 56000 + Math.floor(Math.random() * 3000);
    const db = await startEmbeddedPostgres(dir, port, 'praxiskern_scratch');
    process.once('exit', () => void db.stop());
    return db.superuserUrl;
  })();
  return cluster;
}

export interface TestDatabase {
  name: string;
  superuserUrl: string;
  ownerUrl: string;
  appUrl: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const superuserUrl = await clusterUrl();
  const name = `t_${randomBytes(6).toString('hex')}`;
  await provisionDatabase(superuserUrl, name, TEST_ROLE_PASSWORDS);
  const base = withDatabase(superuserUrl, name);
  return {
    name,
    superuserUrl: base,
    ownerUrl: withCredentials(base, OWNER_ROLE, TEST_ROLE_PASSWORDS.ownerPassword),
    appUrl: withCredentials(base, APP_ROLE, TEST_ROLE_PASSWORDS.appPassword),
    async drop() {
      const c = new pg.Client({ connectionString: superuserUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.query(`drop database if exists ${name}_drill with (force)`);
      await c.end();
    },
  };
}
