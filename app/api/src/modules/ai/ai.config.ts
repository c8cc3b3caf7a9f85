// Installation-wide limits of the AI preparation (docs/ai.md). The per-organization settings (switch,
// model, base URL, key file, timeouts, daily token budget) live in the database (ai_settings).
import path from 'node:path';

export interface AiConfig {
  /** Key files named in an organization's settings must lie inside this directory. */
  secretsDir: string;
  /** Concurrent requests to Anthropic per process; more wait in a short queue, beyond that a clear 503. */
  maxConcurrency: number;
  maxQueue: number;
  /** Consecutive transient failures (timeouts, 429/5xx/529 after the SDK's retries) before the breaker opens. */
  breakerFailures: number;
  breakerHalfOpenSeconds: number;
  /** Characters of pseudonymised input per request; more is cut with a visible note. */
  maxInputChars: number;
  /** Characters per single free-text field. */
  maxFieldChars: number;
  /** Output tokens asked for per request. */
  maxOutputTokens: number;
  /** Days a reviewed or abandoned draft (its rejected items) is kept for the audit before it is deleted. */
  draftRetentionDays: number;
}

function int(env: NodeJS.ProcessEnv, name: string, def: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  return n;
}

export function aiConfig(env: NodeJS.ProcessEnv): AiConfig {
  const dataDir = path.resolve(env.PRAXISKERN_DATA_DIR || './data');
  return {
    secretsDir: path.resolve(env.PRAXISKERN_AI_SECRETS_DIR || path.join(dataDir, 'secrets', 'ai')),
    maxConcurrency: int(env, 'PRAXISKERN_AI_MAX_CONCURRENCY', 4, 1),
    maxQueue: int(env, 'PRAXISKERN_AI_MAX_QUEUE', 20, 0),
    breakerFailures: int(env, 'PRAXISKERN_AI_BREAKER_FAILURES', 5, 1),
    breakerHalfOpenSeconds: int(env, 'PRAXISKERN_AI_BREAKER_HALF_OPEN_SECONDS', 60, 1),
    maxInputChars: int(env, 'PRAXISKERN_AI_MAX_INPUT_CHARS', 40_000, 1000),
    maxFieldChars: int(env, 'PRAXISKERN_AI_MAX_FIELD_CHARS', 4_000, 100),
    maxOutputTokens: int(env, 'PRAXISKERN_AI_MAX_OUTPUT_TOKENS', 2_000, 100),
    draftRetentionDays: int(env, 'PRAXISKERN_AI_DRAFT_RETENTION_DAYS', 30, 1),
  };
}
