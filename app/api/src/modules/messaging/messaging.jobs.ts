// The worker's messaging jobs: outbox delivery (PRAXISKERN_OUTBOX_DELIVERY) and the application
// of stored webhook events, woken by NOTIFY from their tables and by a poll; the queue gauges.
import type { Services } from '../../http/services.ts';
import { log } from '../../core/context.ts';
import { outboxGauges } from './messaging.metrics.ts';
import { OutboxWorker } from './outbox.worker.ts';
import { WebhookProcessor } from './webhook.processor.ts';
import { closeTransports } from './providers.repository.ts';

export interface MessagingJobs {
  outbox: OutboxWorker | undefined;
  webhooks: WebhookProcessor;
  stop(): Promise<void>;
}

export function startMessagingJobs(services: Services): MessagingJobs {
  outboxGauges(services.metrics.registry, services.db);
  const outbox = services.config.messaging.deliver ? new OutboxWorker(services).start() : undefined;
  const webhooks = new WebhookProcessor(services);
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const loop = async () => {
    if (stopped) return;
    running = webhooks.runOnce().catch((err) => log().error({ err: (err as Error).message }, 'webhook pass failed'));
    const n = await running;
    if (!stopped) timer = setTimeout(loop, n === 50 ? 0 : Math.min(1000, services.config.messaging.outbox.pollMs));
  };
  timer = setTimeout(loop, 0);
  return {
    outbox,
    webhooks,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await outbox?.stop();
      closeTransports();
    },
  };
}
