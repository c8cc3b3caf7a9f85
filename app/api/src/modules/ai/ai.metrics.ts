// AI metrics (no patient identifier, no organization name in any label): requests by task and
// outcome, tokens by direction, failures by reason, the circuit breaker's state, requests refused
// by the leak check by category (docs/ai.md, ops/prometheus/rules/praxiskern.yml).
import { Counter, Gauge, type Registry } from 'prom-client';

export interface AiMetrics {
  requests: Counter<'task' | 'outcome'>;
  tokens: Counter<'direction'>;
  failures: Counter<'reason'>;
  breaker: Gauge;
  leakBlocked: Counter<'category'>;
}

const byRegistry = new WeakMap<Registry, AiMetrics>();

export function aiMetrics(registry: Registry): AiMetrics {
  let m = byRegistry.get(registry);
  if (m) return m;
  m = {
    requests: new Counter({ name: 'praxiskern_ai_requests_total', help: 'AI requests by task (prepare, triage) and outcome (success, failure, malformed, blocked_leak, blocked_gate, budget)', labelNames: ['task', 'outcome'], registers: [registry] }),
    tokens: new Counter({ name: 'praxiskern_ai_tokens_total', help: 'Tokens used by direction (input, output)', labelNames: ['direction'], registers: [registry] }),
    failures: new Counter({ name: 'praxiskern_ai_failures_total', help: 'Failed AI requests by reason (timeout, rate_limited, overloaded, server_error, connection, breaker_open, busy, malformed, auth, bad_request)', labelNames: ['reason'], registers: [registry] }),
    breaker: new Gauge({ name: 'praxiskern_ai_breaker_state', help: 'Circuit breaker of the Anthropic API: 0 closed, 1 open, 2 half-open', registers: [registry] }),
    leakBlocked: new Counter({ name: 'praxiskern_ai_leak_blocked_total', help: 'Requests the final leak check refused to send, by identifier category', labelNames: ['category'], registers: [registry] }),
  };
  m.breaker.set(0);
  for (const t of ['prepare', 'triage']) for (const o of ['success', 'failure', 'blocked_leak']) m.requests.inc({ task: t, outcome: o }, 0);
  for (const d of ['input', 'output']) m.tokens.inc({ direction: d }, 0);
  byRegistry.set(registry, m);
  return m;
}
