// Finance settings of the server (environment): where the Stripe secrets of each organization are
// kept and which Stripe API host the SDK talks to (a local server in tests).
import path from 'node:path';

export interface FinanceConfig {
  /** <dir>/<organization id>/stripe-secret-key and stripe-webhook-secret (files, mode 0600). */
  secretsDir: string;
  /** The Stripe API endpoint (host, port, protocol options of the SDK); undefined = api.stripe.com. */
  stripeApi: { host: string; port: number; protocol: 'http' | 'https' } | undefined;
  stripeTimeoutMs: number;
  breakerFailures: number;
  breakerHalfOpenSeconds: number;
  /** Seconds a webhook signature stays valid (Stripe's default tolerance: 300). */
  webhookToleranceSeconds: number;
  webhookMaxBytes: number;
  /** Where Stripe Checkout sends the patient afterwards (?result=paid|cancelled is appended); default <public URL>/payment-complete. */
  returnUrl: string | undefined;
}

export function financeConfig(env: NodeJS.ProcessEnv): FinanceConfig {
  const dataDir = path.resolve(env.PRAXISKERN_DATA_DIR || './data');
  const num = (name: string, def: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
    return n;
  };
  let stripeApi: FinanceConfig['stripeApi'];
  if (env.PRAXISKERN_STRIPE_API_URL) {
    const u = new URL(env.PRAXISKERN_STRIPE_API_URL);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('PRAXISKERN_STRIPE_API_URL must be an http(s) URL');
    const protocol = u.protocol === 'http:' ? 'http' : 'https';
    stripeApi = { host: u.hostname, port: u.port ? Number(u.port) : protocol === 'http' ? 80 : 443, protocol };
  }
  return {
    secretsDir: path.resolve(env.PRAXISKERN_FINANCE_SECRETS_DIR || path.join(dataDir, 'secrets', 'finance')),
    stripeApi,
    stripeTimeoutMs: Math.max(100, num('PRAXISKERN_STRIPE_TIMEOUT_MS', 15_000)),
    breakerFailures: Math.max(1, num('PRAXISKERN_STRIPE_BREAKER_FAILURES', 5)),
    breakerHalfOpenSeconds: Math.max(1, num('PRAXISKERN_STRIPE_BREAKER_HALF_OPEN_SECONDS', 30)),
    webhookToleranceSeconds: Math.max(1, num('PRAXISKERN_STRIPE_WEBHOOK_TOLERANCE_SECONDS', 300)),
    webhookMaxBytes: Math.max(1024, num('PRAXISKERN_STRIPE_WEBHOOK_MAX_BYTES', 262_144)),
    returnUrl: returnUrl(env.PRAXISKERN_STRIPE_RETURN_URL),
  };
}

function returnUrl(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const u = new URL(v);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('PRAXISKERN_STRIPE_RETURN_URL must be an http(s) URL');
  return v;
}
