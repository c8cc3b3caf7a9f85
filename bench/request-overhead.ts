// Per-request overhead of session + RLS + audit on a simple read (GET /api/v1/audit?limit=1),
// against the same query served by the same Koa middleware stack without them, in one run.
// Run: node bench/request-overhead.ts   (starts its own embedded PostgreSQL)
import http from 'node:http';
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { createDb } from '../app/api/src/db/connection.ts';
import { requestContext } from '../app/api/src/http/middleware/request-context.ts';
import { securityHeaders } from '../app/api/src/http/middleware/security-headers.ts';
import { errorHandler } from '../app/api/src/http/middleware/errors.ts';
import { rootLogger } from '../app/api/src/core/logger.ts';
import { startTestApp, setupInstance } from '../tests/helpers/app.ts';
import { load, fmt } from './lib.ts';

rootLogger.level = 'silent';
const app = await startTestApp();
const { client, organizationId } = await setupInstance(app);
const owner = createDb(app.db.ownerUrl, 10);

// Baseline: same middleware stack, same pool size, the bare query with the organization filter.
const bare = new Koa();
bare.use(requestContext(app.services.metrics));
bare.use(securityHeaders(false));
bare.use(errorHandler());
bare.use(async (ctx) => {
  const entries = await owner('audit_log')
    .select('seq', 'created_at', 'actor_user_id', 'action', 'object_type', 'object_id', 'outcome', 'request_id', 'ip', 'user_agent', 'details')
    .where({ organization_id: organizationId })
    .orderBy('seq', 'desc')
    .limit(1);
  ctx.body = { entries };
});
const bareServer = http.createServer(bare.callback()).listen(0, '127.0.0.1');
await new Promise((r) => bareServer.once('listening', r));
const bareUrl = `http://127.0.0.1:${(bareServer.address() as AddressInfo).port}/`;

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
function get(url: string, cookie?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent, headers: cookie ? { cookie } : {} }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    }).on('error', reject);
  });
}

const cookie = client.cookieHeader();
const fullUrl = `${app.url}/api/v1/audit?limit=1`;
const N = Number(process.env.BENCH_REQUESTS || 3000);
const C = Number(process.env.BENCH_CONCURRENCY || 8);
await load(300, C, () => get(fullUrl, cookie));
await load(300, C, () => get(bareUrl));
const rounds = [];
for (let r = 0; r < 3; r++) {
  const base = await load(N, C, () => get(bareUrl));
  const full = await load(N, C, () => get(fullUrl, cookie));
  rounds.push({ base, full });
}
console.log(`requests per round: ${N}, concurrency ${C}`);
for (const [i, { base, full }] of rounds.entries()) {
  console.log(
    `round ${i + 1}: bare ${fmt(base.rps, 0)} req/s p50 ${fmt(base.p50)} ms p95 ${fmt(base.p95)} ms | ` +
      `session+RLS+audit ${fmt(full.rps, 0)} req/s p50 ${fmt(full.p50)} ms p95 ${fmt(full.p95)} ms | ` +
      `time ratio ${fmt(base.rps / full.rps)}x, p50 ratio ${fmt(full.p50 / base.p50)}x`,
  );
}
const med = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`median throughput ratio (bare / full): ${fmt(med(rounds.map((r) => r.base.rps / r.full.rps)))}x (aim <= 1.3x)`);
agent.destroy();
bareServer.close();
await owner.destroy();
await app.stop();
await app.db.drop();
process.exit(0);
