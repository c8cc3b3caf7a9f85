// Outbox delivery against the fake WhatsApp Cloud API on loopback: throughput (messages/s from a
// full queue) and enqueue → sent latency (p50/p95), with the provider answering at once and in
// 500 ms; baseline: the same number of bare Cloud API calls from this process at the same
// concurrency (no database, no decryption, no consent check). Ratios in one run.
// Run: node_modules/.bin/node bench/outbox-delivery.ts   (BENCH_MESSAGES=400 BENCH_SLOW_MESSAGES=200)
import { withScope } from '../app/api/src/db/connection.ts';
import { OutboxWorker } from '../app/api/src/modules/messaging/outbox.worker.ts';
import { enqueueMessage } from '../app/api/src/modules/messaging/outbox.service.ts';
import { cloudApiBody } from '../app/api/src/modules/messaging/providers.repository.ts';
import { enableChannels, newPatient, startMessagingEnv, waitFor } from '../tests/integration/messaging-fixtures.ts';
import { fmt, load, percentile, PRODUCTION_LIKE } from './lib.ts';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 400);
const SLOW_MESSAGES = Number(process.env.BENCH_SLOW_MESSAGES ?? 200);
const BATCH = 20;
const POLL_MS = 200;

const env = await startMessagingEnv({
  ...PRODUCTION_LIKE, PRAXISKERN_OUTBOX_DELIVERY: 'false', PRAXISKERN_OUTBOX_RATE_PER_SECOND: '10000',
  PRAXISKERN_OUTBOX_BATCH: String(BATCH), PRAXISKERN_OUTBOX_POLL_MS: String(POLL_MS), PRAXISKERN_OUTBOX_PROVIDER_TIMEOUT_MS: '10000',
});
try {
  await enableChannels(env.admin);
  const t = await env.admin.put('/api/v1/messaging/templates', {
    purpose: 'document_request', language: 'de', body: 'Bitte senden Sie {{documentName}}.',
    whatsappTemplate: { name: 'unterlagen', languageCode: 'de', parameters: ['documentName'] },
  });
  if (t.status !== 200) throw new Error(t.text);
  const patients: { id: string }[] = [];
  for (let i = 0; i < 20; i++) patients.push(await newPatient(env.admin, ['whatsapp_contact']));
  const services = env.app.services;
  const admin = await env.owner('users').where({ organization_id: env.organizationId }).first('id');

  /** Enqueued in one transaction; the ids and the time it committed (latency counts from there). */
  const committedAt = new Map<string, number>();
  async function enqueue(n: number, tag: string): Promise<string[]> {
    const ids: string[] = [];
    await withScope(services.db, { organizationId: env.organizationId, userId: admin.id }, async (trx) => {
      for (let i = 0; i < n; i++) {
        const p = patients[i % patients.length];
        const row = await enqueueMessage(services, trx, env.organizationId, admin.id, { patientId: p.id, purpose: 'document_request', channel: 'whatsapp', variables: { documentName: `${tag} ${i}` } });
        ids.push(row.id);
      }
    });
    const now = Date.now();
    for (const id of ids) committedAt.set(id, now);
    return ids;
  }

  async function drain(ids: string[]) {
    const worker = new OutboxWorker(env.app.worker.services);
    const t0 = performance.now();
    worker.start();
    await waitFor('all sent', async () => Number((await env.owner('outbox_messages').whereIn('id', ids).whereNot({ status: 'sent' }).count({ n: '*' }))[0].n) === 0, 600_000);
    const seconds = (performance.now() - t0) / 1000;
    await worker.stop();
    const rows: { id: string; sent_at: Date }[] = await env.owner('outbox_messages').whereIn('id', ids).select('id', 'sent_at');
    const lat = rows.map((r) => r.sent_at.getTime() - committedAt.get(r.id)!).sort((a, b) => a - b);
    return { rate: ids.length / seconds, seconds, p50: percentile(lat, 50), p95: percentile(lat, 95) };
  }

  /** One message at a time, waiting for each: enqueue → sent with an idle queue (poll interval dominates). */
  async function trickle(n: number) {
    const worker = new OutboxWorker(env.app.worker.services).start();
    const lat: number[] = [];
    for (let i = 0; i < n; i++) {
      const [id] = await enqueue(1, 'trickle');
      const t0 = performance.now();
      await waitFor('sent', async () => (await env.owner('outbox_messages').where({ id }).first('status')).status === 'sent', 60_000);
      lat.push(performance.now() - t0);
    }
    await worker.stop();
    lat.sort((a, b) => a - b);
    return { p50: percentile(lat, 50), p95: percentile(lat, 95) };
  }

  async function bare(n: number) {
    const body = JSON.stringify(cloudApiBody('+491601234567', { type: 'template', name: 'unterlagen', languageCode: 'de', parameters: ['x'] }, 'bench'));
    return load(n, BATCH, async () => {
      const r = await fetch(`${env.fake.url}/v21.0/1029384756/messages`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${env.fake.token}` }, body });
      await r.text();
    });
  }

  env.fake.delayMs = 0;
  const bareFast = await bare(MESSAGES);
  const fast = await drain(await enqueue(MESSAGES, 'fast'));
  const trickleFast = await trickle(20);
  env.fake.delayMs = 500;
  const bareSlow = await bare(SLOW_MESSAGES);
  const slow = await drain(await enqueue(SLOW_MESSAGES, 'slow'));

  console.log(`outbox delivery, batch ${BATCH} per pass in parallel, poll ${POLL_MS} ms, one organization, 2-core shared machine`);
  console.log(`provider answers at once: ${MESSAGES} messages in ${fmt(fast.seconds)} s = ${fmt(fast.rate, 1)} msg/s; bare API calls ${fmt(bareFast.rps, 1)} req/s; ratio bare/outbox ${fmt(bareFast.rps / fast.rate)}×`);
  console.log(`  enqueue → sent from a full queue: p50 ${fmt(fast.p50, 0)} ms, p95 ${fmt(fast.p95, 0)} ms`);
  console.log(`  enqueue → sent one at a time (idle queue): p50 ${fmt(trickleFast.p50, 0)} ms, p95 ${fmt(trickleFast.p95, 0)} ms`);
  console.log(`provider answers in 500 ms: ${SLOW_MESSAGES} messages in ${fmt(slow.seconds)} s = ${fmt(slow.rate, 1)} msg/s; bare ${fmt(bareSlow.rps, 1)} req/s; ratio bare/outbox ${fmt(bareSlow.rps / slow.rate)}×`);
  console.log(`  enqueue → sent from a full queue: p50 ${fmt(slow.p50, 0)} ms, p95 ${fmt(slow.p95, 0)} ms`);
  console.log(`slow/fast throughput ratio ${fmt(slow.rate / fast.rate, 3)} (the bound with ${BATCH} calls in flight: ${fmt(BATCH / 0.5, 0)} msg/s)`);
} finally {
  await env.stop();
}
process.exit(0);
