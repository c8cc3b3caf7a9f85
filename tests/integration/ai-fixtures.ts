// Shared fixtures of the AI tests (not a test file itself): the real server with the AI secrets
// directory and a generated API key, the fake Anthropic Messages API on loopback, patients with
// consent, inbound messages stored as the webhook processor stores them (encrypted).
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDb, type Db } from '../../app/api/src/db/connection.ts';
import { setupInstance, startTestApp, waitForWorkerUnsealed, type TestApp } from '../helpers/app.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../helpers/fake-anthropic.ts';
import type { Client } from '../helpers/http-client.ts';
import { storeInbound } from './patients-fixtures.ts';

export interface AiEnv {
  app: TestApp;
  fake: FakeAnthropic;
  admin: Client;
  organizationId: string;
  owner: Db;
  secretsDir: string;
  apiKey: string;
  stop(): Promise<void>;
}

export async function startAiEnv(env: Record<string, string> = {}): Promise<AiEnv> {
  const fake = await startFakeAnthropic();
  const dir = mkdtempSync(path.join(tmpdir(), 'pk-ai-'));
  const secretsDir = path.join(dir, 'ai');
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  const apiKey = `sk-ant-test-${randomBytes(16).toString('hex')}`;
  writeFileSync(path.join(secretsDir, 'anthropic.key'), apiKey + '\n', { mode: 0o600 });
  const app = await startTestApp({
    PRAXISKERN_AI_SECRETS_DIR: secretsDir, PRAXISKERN_AI_BREAKER_FAILURES: '3', PRAXISKERN_AI_BREAKER_HALF_OPEN_SECONDS: '5', ...env,
  });
  const { client: admin, organizationId } = await setupInstance(app);
  const owner = createDb(app.db.ownerUrl, 2);
  await waitForWorkerUnsealed(app, owner);
  return {
    app, fake, admin, organizationId, owner, secretsDir, apiKey,
    async stop() {
      await owner.destroy();
      await app.stop();
      await app.db.drop();
      await fake.close();
    },
  };
}

export async function enableAi(admin: Client, baseUrl: string, overrides: Record<string, unknown> = {}) {
  const res = await admin.put('/api/v1/ai/settings', { enabled: true, model: 'claude-sonnet-4-5', baseUrl, apiKeyFile: 'anthropic.key', timeoutMs: 5000, maxRetries: 2, dailyTokenBudget: 10_000_000, ...overrides });
  if (res.status !== 200) throw new Error(`ai settings: ${res.status} ${res.text}`);
  return res.body;
}

export async function grantAi(client: Client, patientId: string) {
  const c = await client.post(`/api/v1/patients/${patientId}/consents`, { purpose: 'ai_preparation', action: 'granted', textVersion: '2026-12', channel: 'paper' });
  if (c.status !== 201) throw new Error(`consent: ${c.status} ${c.text}`);
}

/** An inbound WhatsApp text from the patient, stored encrypted like the webhook processor does. */
export function inboundText(app: TestApp, organizationId: string, patientId: string, text: string): Promise<string> {
  return storeInbound(app, organizationId, patientId, 'text', { type: 'text', text, media: null });
}

export async function must<T = any>(p: Promise<{ status: number; text: string; body: T }>, status: number): Promise<T> {
  const r = await p;
  if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${r.text}`);
  return r.body;
}
