// Every setting is an environment variable with a documented default (compose/.env.example).
import { financeConfig, type FinanceConfig } from '../modules/finance/finance.config.ts';
import { aiConfig, type AiConfig } from '../modules/ai/ai.config.ts';
import path from 'node:path';

export interface Config {
  port: number;
  host: string;
  metricsPort: number;
  metricsHost: string;
  dataDir: string;
  databaseUrl: string | undefined;
  ownerDatabaseUrl: string | undefined;
  publicUrl: string;
  secureCookies: boolean;
  /** Peers (IP or CIDR) whose X-Forwarded-For is believed; empty: the TCP peer is the client. */
  trustedProxies: string[];
  /** Lifetime of a one-time enrollment link (new and reset local accounts). */
  enrollmentTtlHours: number;
  /** Unwrapped data keys kept in memory while unsealed (modules/keystore/key-cache.ts); 0 turns it off. */
  dataKeyCache: { maxEntries: number; ttlSeconds: number };
  logLevel: string;
  sessionIdleMinutes: number;
  sessionAbsoluteHours: number;
  autoUnsealKeyFile: string | undefined;
  /** The CLI's unix socket; app and worker share the data volume, so each has its own. */
  adminSocket: string;
  /** Whether this process runs the scheduled jobs (backups, drills); the bundle's app leaves them to the worker. */
  runSchedules: boolean;
  /** The worker's admin socket: the API process forwards a successful unseal to it (PRAXISKERN_WORKER_SOCKET). */
  workerSocket: string | undefined;
  /** Worker only: how often it looks for queued backup/drill requests besides LISTEN/NOTIFY. */
  backupRequestPollSeconds: number;
  /** API: how long POST /backup/runs and /backup/drills wait for the worker to start the job. */
  backupRequestWaitSeconds: number;
  /** Worker only: the recovery-kit directory (mounted read-only) checked for left-behind secrets. */
  recoveryKitDir: string | undefined;
  hostCheckSeconds: number;
  /**
   * The audit sequencer (docs/security-model.md, "Accountability"): whether this process runs one
   * (app and worker both do by default; one at a time works), how often it looks for entries
   * committed by other processes, and how long `audit verify` lets an entry wait before it fails.
   */
  audit: { sequencer: boolean; sequencerIntervalMs: number; maxWaitSeconds: number };
  /** Check every API answer against its documented schema (tests, development; docs/api.md). */
  checkResponses: boolean;
  webRoot: string;
  /**
   * Local login throttling (docs/security-model.md): failures per source and account name before
   * that source is locked out of that account, per source for all names, and per account from
   * all sources before attempts on it are spaced accountIntervalSeconds apart (no hard lock).
   */
  login: {
    maxFailures: number;
    ipMaxFailures: number;
    accountMaxFailures: number;
    accountIntervalSeconds: number;
    windowSeconds: number;
    lockSeconds: number;
  };
  /** Patient messaging (docs/messaging.md); every channel is also switched on per organization. */
  messaging: MessagingConfig;
  /** Quotes, payments, Stripe (docs/finance.md). */
  finance: FinanceConfig;
  /** AI preparation with Anthropic Claude (docs/ai.md): installation-wide limits. */
  ai: AiConfig;
  oidc: {
    issuer: string | undefined;
    clientId: string | undefined;
    clientSecret: string | undefined;
    roleClaim: string;
    roleSource: 'id_token' | 'userinfo';
    roleMap: Record<string, string>;
    organizationId: string | undefined;
    displayName: string;
    scopes: string;
  };
}

export interface MessagingConfig {
  smtp: { host: string | undefined; port: number; secure: boolean; requireTls: boolean; user: string | undefined; passwordFile: string | undefined; caFile: string | undefined };
  whatsapp: { graphUrl: string; graphVersion: string; d360Url: string; appSecretFile: string | undefined; verifyTokenFile: string | undefined };
  /** Per-organization credentials: <dir>/<organization id>/whatsapp-token, 360dialog-api-key. */
  secretsDir: string;
  outbox: {
    pollMs: number; batch: number; leaseSeconds: number; maxAttempts: number; backoffBaseMs: number; backoffMaxMs: number;
    ratePerSecond: number; breakerFailures: number; breakerHalfOpenSeconds: number; providerTimeoutMs: number;
  };
  webhookMaxBytes: number;
  /** Inbound WhatsApp media larger than this is not downloaded (recorded as too large). */
  mediaMaxBytes: number;
  /** Worker: whether it delivers the outbox (webhook events are applied regardless). */
  deliver: boolean;
}

function int(env: NodeJS.ProcessEnv, name: string, def: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

function bool(env: NodeJS.ProcessEnv, name: string, def: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new Error(`${name} must be true or false, got "${raw}"`);
}

/**
 * Parses "idp-group=role,other=role2" into a map. The default maps each organization role name to
 * itself; platform_owner (installation-wide power) is never granted by default, only by an
 * explicit entry.
 */
export function parseRoleMap(raw: string | undefined): Record<string, string> {
  const map: Record<string, string> = {};
  if (!raw) {
    for (const r of ['admin', 'coordinator', 'doctor', 'finance', 'staff']) map[r] = r;
    return map;
  }
  for (const pair of raw.split(',')) {
    const [from, to] = pair.split('=').map((s) => s.trim());
    if (!from || !to) throw new Error(`PRAXISKERN_OIDC_ROLE_MAP entry "${pair}" must look like idp-value=role`);
    map[from] = to;
  }
  return map;
}

const IPV4_CIDR = /^(\d{1,3})(\.\d{1,3}){3}(\/(3[0-2]|[12]?\d))?$/;
const IPV6_CIDR = /^[0-9a-f:]+(\/(12[0-8]|1[01]\d|[1-9]?\d))?$/i;

/** PRAXISKERN_TRUSTED_PROXIES: comma-separated addresses or CIDRs (default: none). */
function trustedProxies(env: NodeJS.ProcessEnv): string[] {
  if (env.PRAXISKERN_TRUST_PROXY !== undefined && env.PRAXISKERN_TRUST_PROXY !== '') {
    throw new Error('PRAXISKERN_TRUST_PROXY was replaced by PRAXISKERN_TRUSTED_PROXIES (the proxy addresses or CIDRs whose X-Forwarded-For is trusted)');
  }
  const list = (env.PRAXISKERN_TRUSTED_PROXIES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const entry of list) {
    if (!IPV4_CIDR.test(entry) && !(entry.includes(':') && IPV6_CIDR.test(entry))) {
      throw new Error(`PRAXISKERN_TRUSTED_PROXIES entry "${entry}" must be an IP address or CIDR such as 172.16.0.0/12`);
    }
  }
  return list;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = int(env, 'PORT', 8080);
  const publicUrl = (env.PRAXISKERN_PUBLIC_URL || `http://localhost:${port}`).replace(/\/$/, '');
  const roleSource = env.PRAXISKERN_OIDC_ROLE_SOURCE || 'id_token';
  if (roleSource !== 'id_token' && roleSource !== 'userinfo') {
    throw new Error(`PRAXISKERN_OIDC_ROLE_SOURCE must be id_token or userinfo, got "${roleSource}"`);
  }
  return {
    port,
    host: env.HOST || '127.0.0.1',
    metricsPort: int(env, 'METRICS_PORT', 9464),
    metricsHost: env.METRICS_HOST || '127.0.0.1',
    dataDir: path.resolve(env.PRAXISKERN_DATA_DIR || './data'),
    databaseUrl: env.DATABASE_URL || undefined,
    ownerDatabaseUrl: env.DATABASE_OWNER_URL || undefined,
    publicUrl,
    secureCookies: bool(env, 'PRAXISKERN_SECURE_COOKIES', !publicUrl.startsWith('http://localhost') && !publicUrl.startsWith('http://127.0.0.1')),
    trustedProxies: trustedProxies(env),
    enrollmentTtlHours: Math.min(168, Math.max(1, int(env, 'PRAXISKERN_ENROLLMENT_TTL_HOURS', 24))),
    dataKeyCache: {
      maxEntries: int(env, 'PRAXISKERN_DATA_KEY_CACHE_ENTRIES', 10_000),
      ttlSeconds: Math.min(86_400, int(env, 'PRAXISKERN_DATA_KEY_CACHE_TTL_SECONDS', 300)),
    },
    logLevel: env.LOG_LEVEL || 'info',
    sessionIdleMinutes: int(env, 'PRAXISKERN_SESSION_IDLE_MINUTES', 30),
    sessionAbsoluteHours: int(env, 'PRAXISKERN_SESSION_ABSOLUTE_HOURS', 12),
    autoUnsealKeyFile: env.PRAXISKERN_AUTO_UNSEAL_KEY_FILE || undefined,
    adminSocket: path.resolve(env.PRAXISKERN_ADMIN_SOCKET || path.join(env.PRAXISKERN_DATA_DIR || './data', 'run', 'admin.sock')),
    runSchedules: bool(env, 'PRAXISKERN_RUN_SCHEDULES', true),
    workerSocket: env.PRAXISKERN_WORKER_SOCKET ? path.resolve(env.PRAXISKERN_WORKER_SOCKET) : undefined,
    backupRequestPollSeconds: Math.max(1, int(env, 'PRAXISKERN_BACKUP_REQUEST_POLL_SECONDS', 5)),
    backupRequestWaitSeconds: int(env, 'PRAXISKERN_BACKUP_REQUEST_WAIT_SECONDS', 15),
    recoveryKitDir: env.PRAXISKERN_RECOVERY_KIT_DIR ? path.resolve(env.PRAXISKERN_RECOVERY_KIT_DIR) : undefined,
    hostCheckSeconds: Math.max(10, int(env, 'PRAXISKERN_HOST_CHECK_SECONDS', 60)),
    audit: {
      sequencer: bool(env, 'PRAXISKERN_AUDIT_SEQUENCER', true),
      sequencerIntervalMs: Math.max(20, int(env, 'PRAXISKERN_AUDIT_SEQUENCER_INTERVAL_MS', 250)),
      maxWaitSeconds: Math.max(1, int(env, 'PRAXISKERN_AUDIT_MAX_WAIT_SECONDS', 60)),
    },
    checkResponses: bool(env, 'PRAXISKERN_CHECK_RESPONSES', false),
    webRoot: path.resolve(env.PRAXISKERN_WEB_ROOT || new URL('../../../web/build', import.meta.url).pathname),
    login: {
      maxFailures: Math.max(1, int(env, 'PRAXISKERN_LOGIN_MAX_FAILURES', 5)),
      ipMaxFailures: Math.max(1, int(env, 'PRAXISKERN_LOGIN_IP_MAX_FAILURES', 50)),
      accountMaxFailures: Math.max(1, int(env, 'PRAXISKERN_LOGIN_ACCOUNT_MAX_FAILURES', 10)),
      accountIntervalSeconds: Math.min(60, int(env, 'PRAXISKERN_LOGIN_ACCOUNT_INTERVAL_SECONDS', 5)),
      windowSeconds: int(env, 'PRAXISKERN_LOGIN_WINDOW_SECONDS', 900),
      lockSeconds: int(env, 'PRAXISKERN_LOGIN_LOCK_SECONDS', 900),
    },
    messaging: messagingConfig(env),
    finance: financeConfig(env),
    ai: aiConfig(env),
    oidc: {
      issuer: env.PRAXISKERN_OIDC_ISSUER || undefined,
      clientId: env.PRAXISKERN_OIDC_CLIENT_ID || undefined,
      clientSecret: env.PRAXISKERN_OIDC_CLIENT_SECRET || undefined,
      roleClaim: env.PRAXISKERN_OIDC_ROLE_CLAIM || 'roles',
      roleSource,
      roleMap: parseRoleMap(env.PRAXISKERN_OIDC_ROLE_MAP),
      organizationId: env.PRAXISKERN_OIDC_ORGANIZATION_ID || undefined,
      displayName: env.PRAXISKERN_OIDC_DISPLAY_NAME || 'Clinic login',
      scopes: env.PRAXISKERN_OIDC_SCOPES || 'openid profile email',
    },
  };
}

function messagingConfig(env: NodeJS.ProcessEnv): MessagingConfig {
  const dataDir = path.resolve(env.PRAXISKERN_DATA_DIR || './data');
  const file = (name: string) => (env[name] ? path.resolve(env[name]!) : undefined);
  const url = (name: string, def: string) => {
    const v = (env[name] || def).replace(/\/$/, '');
    if (!/^https?:\/\/[^\s]+$/.test(v)) throw new Error(`${name} must be an http(s) URL, got "${v}"`);
    return v;
  };
  const version = env.PRAXISKERN_WHATSAPP_GRAPH_VERSION || 'v21.0';
  if (!/^v\d{1,3}\.\d{1,3}$/.test(version)) throw new Error(`PRAXISKERN_WHATSAPP_GRAPH_VERSION must look like v21.0, got "${version}"`);
  return {
    smtp: {
      host: env.PRAXISKERN_SMTP_HOST || undefined,
      port: int(env, 'PRAXISKERN_SMTP_PORT', 587),
      secure: bool(env, 'PRAXISKERN_SMTP_IMPLICIT_TLS', false),
      requireTls: bool(env, 'PRAXISKERN_SMTP_REQUIRE_STARTTLS', true),
      user: env.PRAXISKERN_SMTP_USER || undefined,
      passwordFile: file('PRAXISKERN_SMTP_PASSWORD_FILE'),
      caFile: file('PRAXISKERN_SMTP_CA_FILE'),
    },
    whatsapp: {
      graphUrl: url('PRAXISKERN_WHATSAPP_GRAPH_URL', 'https://graph.facebook.com'),
      graphVersion: version,
      d360Url: url('PRAXISKERN_360DIALOG_URL', 'https://waba-v2.360dialog.io'),
      appSecretFile: file('PRAXISKERN_WHATSAPP_APP_SECRET_FILE'),
      verifyTokenFile: file('PRAXISKERN_WHATSAPP_VERIFY_TOKEN_FILE'),
    },
    secretsDir: path.resolve(env.PRAXISKERN_MESSAGING_SECRETS_DIR || path.join(dataDir, 'secrets', 'messaging')),
    outbox: {
      pollMs: Math.max(50, int(env, 'PRAXISKERN_OUTBOX_POLL_MS', 2000)),
      batch: Math.max(1, int(env, 'PRAXISKERN_OUTBOX_BATCH', 20)),
      leaseSeconds: Math.max(1, int(env, 'PRAXISKERN_OUTBOX_LEASE_SECONDS', 120)),
      maxAttempts: Math.max(1, int(env, 'PRAXISKERN_OUTBOX_MAX_ATTEMPTS', 10)),
      backoffBaseMs: Math.max(10, int(env, 'PRAXISKERN_OUTBOX_BACKOFF_BASE_MS', 5000)),
      backoffMaxMs: Math.max(10, int(env, 'PRAXISKERN_OUTBOX_BACKOFF_MAX_MS', 3_600_000)),
      ratePerSecond: Math.max(1, int(env, 'PRAXISKERN_OUTBOX_RATE_PER_SECOND', 20)),
      breakerFailures: Math.max(1, int(env, 'PRAXISKERN_OUTBOX_BREAKER_FAILURES', 5)),
      breakerHalfOpenSeconds: Math.max(1, int(env, 'PRAXISKERN_OUTBOX_BREAKER_HALF_OPEN_SECONDS', 60)),
      providerTimeoutMs: Math.max(100, int(env, 'PRAXISKERN_OUTBOX_PROVIDER_TIMEOUT_MS', 15_000)),
    },
    webhookMaxBytes: Math.max(1024, int(env, 'PRAXISKERN_WEBHOOK_MAX_BYTES', 1_048_576)),
    mediaMaxBytes: Math.max(1, int(env, 'PRAXISKERN_MEDIA_MAX_BYTES', 20_971_520)),
    deliver: bool(env, 'PRAXISKERN_OUTBOX_DELIVERY', true),
  };
}
