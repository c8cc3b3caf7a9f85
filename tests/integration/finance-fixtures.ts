// Shared set-up of the finance tests (not a test file): the app pointed at the fake Stripe API on
// loopback, the organization's Stripe secrets written at test time as secret files, a patient with
// health data (a diagnosis and a treatment plan) and users of the roles the tests need.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createDb, type Db } from '../../app/api/src/db/connection.ts';
import { setupInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import { startFakeStripe, type FakeStripe } from '../helpers/fake-stripe.ts';
import type { Client } from '../helpers/http-client.ts';
import { clientAs, samplePatient } from './patients-fixtures.ts';

/** Health data of the sample patient: none of these strings may ever reach finance or Stripe. */
export const HEALTH = { diagnosis: 'Alopecia areata totalis Finanzprobe', plan: 'Haartransplantation FUE 3000 Grafts Planprobe', item: 'FUE-Entnahme Hinterkopf Positionsprobe' };

export interface FinanceEnv {
  app: TestApp; stripe: FakeStripe; admin: Client; finance: Client; doctor: Client; staff: Client; coordinator: Client;
  organizationId: string; owner: Db; secretsDir: string; webhookUrl: string; stop(): Promise<void>;
}

export async function startFinanceEnv(env: Record<string, string> = {}): Promise<FinanceEnv> {
  const stripe = await startFakeStripe();
  const secretsDir = path.join(mkdtempSync(path.join(tmpdir(), 'pk-fin-')), 'finance');
  const app = await startTestApp({
    PRAXISKERN_STRIPE_API_URL: stripe.url, PRAXISKERN_FINANCE_SECRETS_DIR: secretsDir,
    PRAXISKERN_STRIPE_BREAKER_FAILURES: '3', PRAXISKERN_STRIPE_BREAKER_HALF_OPEN_SECONDS: '1', PRAXISKERN_STRIPE_TIMEOUT_MS: '5000',
    ...env,
  });
  const { client: admin, organizationId } = await setupInstance(app);
  const owner = createDb(app.db.ownerUrl, 2);
  return {
    app, stripe, admin, organizationId, owner, secretsDir,
    finance: await clientAs(app, organizationId, ['finance']),
    doctor: await clientAs(app, organizationId, ['doctor']),
    staff: await clientAs(app, organizationId, ['staff']),
    coordinator: await clientAs(app, organizationId, ['coordinator']),
    webhookUrl: `${app.url}/webhooks/stripe/${organizationId}`,
    async stop() {
      await owner.destroy();
      await app.stop();
      await app.db.drop();
      await stripe.close();
    },
  };
}

export function installStripeSecrets(e: FinanceEnv): void {
  mkdirSync(path.join(e.secretsDir, e.organizationId), { recursive: true });
  writeFileSync(path.join(e.secretsDir, e.organizationId, 'stripe-secret-key'), e.stripe.secretKey, { mode: 0o600 });
  writeFileSync(path.join(e.secretsDir, e.organizationId, 'stripe-webhook-secret'), e.stripe.webhookSecret, { mode: 0o600 });
}

/** A patient with a diagnosis and a treatment plan; returns the ids. */
export async function patientWithPlan(admin: Client, overrides: Record<string, unknown> = {}): Promise<{ id: string; planEntryId: string; email: string; familyName: string }> {
  const p = samplePatient(overrides);
  const res = await admin.post('/api/v1/patients', { ...p, allowDuplicate: true });
  if (res.status !== 201) throw new Error(`patient: ${res.status} ${res.text}`);
  const id = res.body.patient.id as string;
  const d = await admin.post(`/api/v1/patients/${id}/diagnoses`, { code: 'L63.1', text: HEALTH.diagnosis });
  if (d.status !== 201) throw new Error(`diagnosis: ${d.status} ${d.text}`);
  const plan = await admin.post(`/api/v1/patients/${id}/plans`, { title: HEALTH.plan, steps: [{ description: HEALTH.plan }] });
  if (plan.status !== 201) throw new Error(`plan: ${plan.status} ${plan.text}`);
  return { id, planEntryId: plan.body.entry?.id ?? plan.body.id, email: p.email, familyName: p.familyName };
}

export const item = (o: Partial<{ description: string; quantity: number; unitCents: number; vatCategory: string }> = {}) =>
  ({ description: HEALTH.item, quantity: 1, unitCents: 100_000, vatCategory: 'medical_exempt', ...o });
