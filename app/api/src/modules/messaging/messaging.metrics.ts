// Messaging metrics (no patient identifier in any label): outbox depth and the age of the oldest
// due message (read from PostgreSQL at each scrape, across organizations), sends by channel and
// outcome, the circuit breaker's state per provider, and webhook verification failures.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Db } from '../../db/connection.ts';
import { outboxStats } from './messaging.repository.ts';

export interface MessagingMetrics {
  sends: Counter<'channel' | 'outcome'>;
  breaker: Gauge<'provider'>;
  webhookFailures: Counter<'reason'>;
  webhookEvents: Counter<'kind'>;
}

const byRegistry = new WeakMap<Registry, MessagingMetrics>();

export function messagingMetrics(registry: Registry): MessagingMetrics {
  let m = byRegistry.get(registry);
  if (m) return m;
  m = {
    sends: new Counter({ name: 'praxiskern_messages_sent_total', help: 'Delivery attempts by channel and outcome (sent, retry, failed, blocked, breaker_open)', labelNames: ['channel', 'outcome'], registers: [registry] }),
    breaker: new Gauge({ name: 'praxiskern_messaging_breaker_state', help: 'Circuit breaker per provider: 0 closed, 1 open, 2 half-open, 3 isolated', labelNames: ['provider'], registers: [registry] }),
    webhookFailures: new Counter({ name: 'praxiskern_webhook_verification_failures_total', help: 'Webhook requests refused: bad or missing signature, wrong verify token', labelNames: ['reason'], registers: [registry] }),
    webhookEvents: new Counter({ name: 'praxiskern_webhook_events_total', help: 'Webhook events applied by kind (status, inbound, duplicate, unknown_number)', labelNames: ['kind'], registers: [registry] }),
  };
  byRegistry.set(registry, m);
  return m;
}

/** The worker's gauges of the queue; read at each scrape. */
export function outboxGauges(registry: Registry, db: Db): void {
  const read = async () => {
    const stats = await outboxStats(db).catch(() => undefined);
    return stats;
  };
  new Gauge({
    name: 'praxiskern_outbox_depth', help: 'Messages waiting in the outbox by status (queued, sending)', labelNames: ['status'], registers: [registry],
    async collect() {
      const stats = await read();
      if (!stats) return;
      this.reset();
      for (const s of ['queued', 'sending']) this.set({ status: s }, stats.find((x) => x.status === s)?.messages ?? 0);
    },
  });
  new Gauge({
    name: 'praxiskern_outbox_oldest_due_age_seconds', help: 'Age of the oldest message that is due and not sent yet (0 when none)', registers: [registry],
    async collect() {
      const stats = await read();
      if (stats) this.set(Math.max(0, ...stats.map((s) => s.oldest)));
    },
  });
}
