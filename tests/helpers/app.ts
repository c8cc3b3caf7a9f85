// Starts the real server against a fresh test database, with light Argon2id parameters for the
// passphrase (the production parameters are measured in bench/, not paid in every test).
// As in the appliance: migrations run first as the owner (the init container's job), the worker
// holds the owner role and runs backups, drills and schedules, and the server that answers HTTP
// has the application role alone.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../app/api/src/core/config.ts';
import { migrate, startServer, type RunningServer } from '../../app/api/src/server.ts';
import { totpCode, base32Decode, currentStep } from '../../app/api/src/modules/auth/totp.ts';
import type { Db } from '../../app/api/src/db/connection.ts';
import { createTestDatabase, type TestDatabase } from './pg.ts';
import { Client } from './http-client.ts';

export const TEST_KDF = { algorithm: 'argon2id' as const, memoryKiB: 8192, passes: 1, parallelism: 1 };

export interface TestApp extends RunningServer {
  /** The worker: same data directory, owner role, schedules and the queue of requested backups. */
  worker: RunningServer;
  db: TestDatabase;
  config: Config;
  dataDir: string;
  client(): Client;
  stop(): Promise<void>;
}

export async function startTestApp(env: Record<string, string> = {}, existing?: { db: TestDatabase; dataDir: string }): Promise<TestApp> {
  const db = existing?.db ?? (await createTestDatabase());
  const dataDir = existing?.dataDir ?? mkdtempSync(path.join(tmpdir(), 'pk-app-'));
  await migrate(db.ownerUrl);
  const base = { PORT: '0', METRICS_PORT: '0', PRAXISKERN_DATA_DIR: dataDir, DATABASE_URL: db.appUrl, LOG_LEVEL: 'silent',
    // Every answer is checked against its documented schema (http/response-check.ts).
    PRAXISKERN_CHECK_RESPONSES: 'true', ...env };
  const workerSocket = path.join(dataDir, 'run', 'worker.sock');
  // The worker listens on ports of its own: a test that fixes PORT/METRICS_PORT means the API's.
  const worker = await startServer(
    loadConfig({ PRAXISKERN_BACKUP_REQUEST_POLL_SECONDS: '1', ...base, PORT: '0', METRICS_PORT: '0', DATABASE_OWNER_URL: db.ownerUrl, PRAXISKERN_RUN_SCHEDULES: 'true', PRAXISKERN_ADMIN_SOCKET: workerSocket }),
    { kdf: TEST_KDF },
  );
  const config = loadConfig({ ...base, PRAXISKERN_RUN_SCHEDULES: 'false', PRAXISKERN_WORKER_SOCKET: workerSocket });
  const server = await startServer(config, { kdf: TEST_KDF }).catch(async (err) => {
    await worker.close();
    throw err;
  });
  return {
    ...server,
    worker,
    db,
    config,
    dataDir,
    client: () => new Client(server.url),
    async stop() {
      await server.close();
      await worker.close();
    },
  };
}

export const ADMIN = {
  organizationName: 'Praxis Dr. Test',
  organizationSlug: 'praxis-test',
  adminUsername: 'admin',
  adminDisplayName: 'Test Admin',
  adminPassword: 'correct horse battery staple',
  passphrase: 'practice passphrase for tests',
};

export function currentTotp(secret: string, offsetSteps = 0): string {
  return totpCode(base32Decode(secret)!, currentStep() + offsetSteps);
}

/** Runs the first-run setup through the API; returns the logged-in admin client and secrets. */
export async function setupInstance(app: TestApp) {
  const client = app.client();
  const begin = await client.get('/api/v1/setup');
  const totpSecret = begin.body.totpSecret as string;
  const res = await client.post('/api/v1/setup', { ...ADMIN, totpSecret, totpCode: currentTotp(totpSecret) });
  if (res.status !== 200) throw new Error(`setup failed: ${res.status} ${res.text}`);
  return { client, totpSecret, recoveryCodes: res.body.recoveryCodes as string[], organizationId: res.body.organizationId as string, userId: res.body.userId as string };
}

/**
 * The API hands the passphrase on to the worker after setup (worker-link.ts), in the background and
 * retrying while the setup commits; the worker then records its own `seal.unseal` in the
 * installation chain. A test that counts audit entries waits (with a deadline) until that entry has
 * committed, so it does not turn up in the middle of the test. `owner` reads the installation chain.
 */
export async function waitForWorkerUnsealed(app: TestApp, owner: Db, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const recorded = async () =>
    !app.worker.services.seal.isSealed &&
    !!(await owner('audit_log').whereNull('organization_id').where({ action: 'seal.unseal', outcome: 'success' }).first('id'));
  while (!(await recorded())) {
    if (Date.now() > deadline) throw new Error(`the worker was not unsealed (with its audit entry) ${timeoutMs} ms after setup`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export type SetUpApp = { app: TestApp; admin: Client; organizationId: string };

/**
 * An app whose instance is set up through the API (the first admin's client is `admin`), started
 * before the file's tests and handed to `use`; stopped (and the database dropped) after them.
 */
export function useSetUpApp(test: { before(fn: () => Promise<void>): void; after: { always(fn: () => Promise<void>): void } }, use: (env: SetUpApp) => void): void {
  let app: TestApp | undefined;
  test.before(async () => {
    app = await startTestApp();
    const { client, organizationId } = await setupInstance(app);
    use({ app, admin: client, organizationId });
  });
  test.after.always(async () => {
    await app?.stop();
    await app?.db.drop();
  });
}
