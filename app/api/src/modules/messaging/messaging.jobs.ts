// The worker's messaging jobs: outbox delivery (PRAXISKERN_OUTBOX_DELIVERY) and the application
// of stored webhook events, woken by NOTIFY from their tables (LISTEN) and by a poll, which also
// covers a missed notification; the queue gauges.
import pg from 'pg';
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

async function listen(url: string | undefined, onNotify: (channel: string) => void): Promise<{ close(): Promise<void> } | undefined> {
  if (!url) return undefined;
  const client = new pg.Client({ connectionString: url, application_name: 'praxiskern-worker-messaging' });
  client.on('error', () => undefined);
  client.on('notification', (n) => onNotify(n.channel));
  try {
    await client.connect();
    await client.query('listen praxiskern_outbox; listen praxiskern_webhooks');
  } catch (err) {
    log().warn({ err: (err as Error).message }, 'messaging: LISTEN failed; polling only');
    await client.end().catch(() => undefined);
    return undefined;
  }
  return { close: () => client.end().catch(() => undefined) };
}

export function startMessagingJobs(services: Services): MessagingJobs {
  outboxGauges(services.metrics.registry, services.db);
  const outbox = services.config.messaging.deliver ? new OutboxWorker(services).start() : undefined;
  const webhooks = new WebhookProcessor(services);
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let busy = false;
  const loop = async () => {
    if (stopped || busy) return;
    busy = true;
    clearTimeout(timer);
    running = webhooks.runOnce().catch((err) => log().error({ err: (err as Error).message }, 'webhook pass failed'));
    const n = await running;
    busy = false;
    if (!stopped) timer = setTimeout(loop, n === 50 ? 0 : Math.min(1000, services.config.messaging.outbox.pollMs));
  };
  timer = setTimeout(loop, 0);
  const listener = listen(services.config.databaseUrl, (channel) => {
    if (channel === 'praxiskern_outbox') outbox?.wake();
    else if (!busy && !stopped) {
      clearTimeout(timer);
      timer = setTimeout(loop, 0);
    }
  });
  return {
    outbox,
    webhooks,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await (await listener)?.close();
      await running;
      await outbox?.stop();
      closeTransports();
    },
  };
}
