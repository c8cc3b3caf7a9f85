// Shared set-up of the messaging tests (not a test file): the app pointed at a fake WhatsApp Cloud
// API and a real SMTP server on loopback, channel secrets written at test time, patients with
// the consents a test needs.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createDb, type Db } from '../../app/api/src/db/connection.ts';
import { setupInstance, startTestApp, waitForWorkerUnsealed, type TestApp } from '../helpers/app.ts';
import { startFakeWhatsApp, type FakeWhatsApp } from '../helpers/fake-whatsapp.ts';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts';
import type { Client } from '../helpers/http-client.ts';
import { samplePatient } from './patients-fixtures.ts';

export const PHONE_NUMBER_ID = '1029384756';

export interface MessagingEnv {
  app: TestApp;
  fake: FakeWhatsApp;
  smtp: TestSmtp;
  admin: Client;
  organizationId: string;
  owner: Db;
  appSecret: string;
  verifyToken: string;
  secretsDir: string;
  stop(): Promise<void>;
}

export async function startMessagingEnv(env: Record<string, string> = {}): Promise<MessagingEnv> {
  const fake = await startFakeWhatsApp();
  const smtp = await startTestSmtp();
  const dir = mkdtempSync(path.join(tmpdir(), 'pk-msg-'));
  const secretsDir = path.join(dir, 'messaging');
  const appSecret = randomBytes(24).toString('hex');
  const verifyToken = randomBytes(12).toString('hex');
  writeFileSync(path.join(dir, 'app-secret'), appSecret, { mode: 0o600 });
  writeFileSync(path.join(dir, 'verify-token'), verifyToken, { mode: 0o600 });
  const app = await startTestApp({
    PRAXISKERN_WHATSAPP_GRAPH_URL: fake.url, PRAXISKERN_360DIALOG_URL: fake.url,
    PRAXISKERN_WHATSAPP_APP_SECRET_FILE: path.join(dir, 'app-secret'), PRAXISKERN_WHATSAPP_VERIFY_TOKEN_FILE: path.join(dir, 'verify-token'),
    PRAXISKERN_MESSAGING_SECRETS_DIR: secretsDir,
    PRAXISKERN_SMTP_HOST: smtp.host, PRAXISKERN_SMTP_PORT: String(smtp.port), PRAXISKERN_SMTP_USER: smtp.user,
    PRAXISKERN_SMTP_PASSWORD_FILE: smtp.passwordFile, PRAXISKERN_SMTP_CA_FILE: smtp.caFile,
    PRAXISKERN_OUTBOX_POLL_MS: '100', PRAXISKERN_OUTBOX_BACKOFF_BASE_MS: '50', PRAXISKERN_OUTBOX_BACKOFF_MAX_MS: '300',
    PRAXISKERN_OUTBOX_BREAKER_FAILURES: '3', PRAXISKERN_OUTBOX_BREAKER_HALF_OPEN_SECONDS: '1', PRAXISKERN_OUTBOX_MAX_ATTEMPTS: '50',
    ...env,
  });
  const { client: admin, organizationId } = await setupInstance(app);
  const owner = createDb(app.db.ownerUrl, 2);
  await waitForWorkerUnsealed(app, owner);
  mkdirSync(path.join(secretsDir, organizationId), { recursive: true });
  writeFileSync(path.join(secretsDir, organizationId, 'whatsapp-token'), fake.token, { mode: 0o600 });
  writeFileSync(path.join(secretsDir, organizationId, '360dialog-api-key'), fake.apiKey, { mode: 0o600 });
  return {
    app, fake, smtp, admin, organizationId, owner, appSecret, verifyToken, secretsDir,
    async stop() {
      await owner.destroy();
      await app.stop();
      await app.db.drop();
      await fake.close();
      await smtp.close();
    },
  };
}

export async function enableChannels(admin: Client, provider: 'meta' | '360dialog' = 'meta', phoneNumberId = PHONE_NUMBER_ID) {
  const res = await admin.put('/api/v1/messaging/channels', {
    email: { enabled: true, from: 'praxis@example.org' },
    whatsapp: { enabled: true, provider, phoneNumberId, displayNumber: '+49 30 1234567' },
  });
  if (res.status !== 200) throw new Error(`channels: ${res.status} ${res.text}`);
  return res.body;
}

export async function newPatient(client: Client, consents: ('whatsapp_contact' | 'email_contact')[], overrides: Record<string, unknown> = {}): Promise<{ id: string; whatsapp: string; email: string }> {
  const p = samplePatient(overrides);
  const res = await client.post('/api/v1/patients', { ...p, allowDuplicate: true });
  if (res.status !== 201) throw new Error(`patient: ${res.status} ${res.text}`);
  for (const purpose of consents) {
    const c = await client.post(`/api/v1/patients/${res.body.patient.id}/consents`, { purpose, action: 'granted', textVersion: '2026-01', channel: 'paper' });
    if (c.status !== 201) throw new Error(`consent: ${c.status} ${c.text}`);
  }
  return { id: res.body.patient.id, whatsapp: res.body.patient.whatsapp, email: res.body.patient.email };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function messageOf(client: Client, patientId: string, id: string) {
  const res = await client.get(`/api/v1/patients/${patientId}/messages`);
  return (res.body.items as { id: string; status: string; blockedReason: string | null; lastError: string | null; attempts: number }[]).find((m) => m.id === id);
}

/** One value of one scrape (several values of the same scrape: pass `text` from fetch(url).text()). */
export async function metric(url: string, name: string, labels = '', text?: string): Promise<number | undefined> {
  text ??= await (await fetch(url)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `) || (labels === '' && l.startsWith(`${name} `)));
  return line ? Number(line.split(' ').pop()) : undefined;
}
