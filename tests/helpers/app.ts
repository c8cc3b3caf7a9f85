// Starts the real server against a fresh test database, with light Argon2id parameters for the
// passphrase (the production parameters are measured in bench/, not paid in every test).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../app/api/src/core/config.ts';
import { startServer, type RunningServer } from '../../app/api/src/server.ts';
import { totpCode, base32Decode, currentStep } from '../../app/api/src/modules/auth/totp.ts';
import { createTestDatabase, type TestDatabase } from './pg.ts';
import { Client } from './http-client.ts';

export const TEST_KDF = { algorithm: 'argon2id' as const, memoryKiB: 8192, passes: 1, parallelism: 1 };

export interface TestApp extends RunningServer {
  db: TestDatabase;
  config: Config;
  dataDir: string;
  client(): Client;
  stop(): Promise<void>;
}

export async function startTestApp(env: Record<string, string> = {}, existing?: { db: TestDatabase; dataDir: string }): Promise<TestApp> {
  const db = existing?.db ?? (await createTestDatabase());
  const dataDir = existing?.dataDir ?? mkdtempSync(path.join(tmpdir(), 'pk-app-'));
  const config = loadConfig({
    PORT: '0',
    METRICS_PORT: '0',
    PRAXISKERN_DATA_DIR: dataDir,
    DATABASE_URL: db.appUrl,
    DATABASE_OWNER_URL: db.ownerUrl,
    LOG_LEVEL: 'silent',
    // Every answer is checked against its documented schema (http/response-check.ts).
    PRAXISKERN_CHECK_RESPONSES: 'true',
    ...env,
  });
  const server = await startServer(config, { kdf: TEST_KDF });
  return {
    ...server,
    db,
    config,
    dataDir,
    client: () => new Client(server.url),
    async stop() {
      await server.close();
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
