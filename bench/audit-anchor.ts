// Cost of the audit anchor writer: request throughput of an audited read with the debounced writer
// on and off (same process, alternating rounds), and what one synchronous flush (heads query +
// fsync'd atomic file write) would add to every request if it ran in the request path.
// Run: node bench/audit-anchor.ts   (starts its own embedded PostgreSQL)
import http from 'node:http';
import { rootLogger } from '../app/api/src/core/logger.ts';
import { auditCommitListeners, auditStandalone } from '../app/api/src/modules/audit/audit.service.ts';
import { startTestApp, setupInstance } from '../tests/helpers/app.ts';
import { load, fmt, percentile, PRODUCTION_LIKE } from './lib.ts';

rootLogger.level = 'silent';
const app = await startTestApp(PRODUCTION_LIKE);
const { client, organizationId } = await setupInstance(app);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const cookie = client.cookieHeader();
const url = `${app.url}/api/v1/audit?limit=1`;
const get = () =>
  new Promise<void>((resolve, reject) => {
    http.get(url, { agent, headers: { cookie } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    }).on('error', reject);
  });

const N = Number(process.env.BENCH_REQUESTS || 1500);
const C = Number(process.env.BENCH_CONCURRENCY || 8);
const listeners = [...auditCommitListeners];
const writer = (on: boolean) => listeners.forEach((l) => (on ? auditCommitListeners.add(l) : auditCommitListeners.delete(l)));
await load(300, C, get);
const rounds = [];
for (let r = 0; r < 3; r++) {
  writer(false);
  const off = await load(N, C, get);
  writer(true);
  const on = await load(N, C, get);
  rounds.push({ off, on });
}
const flushes: number[] = [];
for (let i = 0; i < 200; i++) {
  await auditStandalone(app.services.db, { action: 'bench.anchor', organizationId, actorUserId: null });
  const t0 = performance.now();
  await app.auditAnchors.flush();
  flushes.push(performance.now() - t0);
}
flushes.sort((a, b) => a - b);
console.log(`requests per round: ${N}, concurrency ${C}`);
for (const [i, { off, on }] of rounds.entries()) {
  console.log(`round ${i + 1}: writer off ${fmt(off.rps, 0)} req/s p50 ${fmt(off.p50)} ms | writer on ${fmt(on.rps, 0)} req/s p50 ${fmt(on.p50)} ms | ratio ${fmt(off.rps / on.rps)}x`);
}
const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p50 = med(rounds.map((r) => r.on.p50));
console.log(`median throughput ratio (off / on): ${fmt(med(rounds.map((r) => r.off.rps / r.on.rps)))}x`);
console.log(`one flush: p50 ${fmt(percentile(flushes, 50))} ms, p95 ${fmt(percentile(flushes, 95))} ms = ${fmt(percentile(flushes, 50) / p50)}x the p50 of a whole audited request (${fmt(p50)} ms) if run synchronously`);
agent.destroy();
await app.stop();
await app.db.drop();
process.exit(0);
