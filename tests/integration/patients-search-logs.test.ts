// Issue 8, item 6: no patient identifier in a URL or a log. Searches by name, birth date, phone
// and e-mail go in a POST body; the app's own log (at debug level), its metrics and the real
// Caddy proxy config of the appliance (run here on loopback in front of the app) record none of them.
import test from 'ava';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { rootLogger } from '../../app/api/src/core/logger.ts';
import { startTestApp, setupInstance, type TestApp } from '../helpers/app.ts';
import { Client } from '../helpers/http-client.ts';
import { samplePatient } from './patients-fixtures.ts';

const PATIENT = samplePatient({ givenName: 'Wendeline', familyName: 'Xaverhuber', birthDate: '1961-07-29', phone: '+49 171 4433221', email: 'wendeline.xaverhuber@example.org' });
/** Every way a term could show up in a log: as typed, normalised, URL-encoded. */
const SECRETS = ['Wendeline', 'wendeline', 'Xaverhuber', 'xaverhuber', '1961-07-29', '29.07.1961', '4433221', '+491714433221', '%2B491714433221', 'wendeline.xaverhuber', 'wendeline.xaverhuber%40example.org'];
const SEARCHES = [{ q: 'Xaverhuber' }, { q: 'Wendeline 29.07.1961' }, { birthDate: '1961-07-29' }, { phone: '+491714433221' }, { q: '0171 4433221' }, { email: 'wendeline.xaverhuber@example.org' }];

let app: TestApp;
let admin: Client;
const captured: string[] = [];

test.before(async () => {
  app = await startTestApp({ LOG_LEVEL: 'debug' });
  // Capture what the app writes to its log stream (stdout in production) instead of printing it.
  const stream = (rootLogger as unknown as Record<symbol, { write(s: string): boolean }>)[pino.symbols.streamSym];
  stream.write = (line: string) => {
    captured.push(line);
    return true;
  };
  ({ client: admin } = await setupInstance(app));
  const created = await admin.post('/api/v1/patients', PATIENT);
  if (created.status !== 201) throw new Error(`create failed: ${created.status} ${created.text}`);
});
test.after.always(async () => {
  await app?.stop();
  await app?.db.drop();
});

const leaks = (text: string) => SECRETS.filter((s) => text.includes(s));

test('search terms travel in a POST body, and the app log at debug level and the metrics never contain them', async (t) => {
  t.is(rootLogger.level, 'debug');
  const before = captured.length;
  for (const body of SEARCHES) {
    const res = await admin.post('/api/v1/patients/search', body);
    t.is(res.status, 200, JSON.stringify(body));
    t.is(res.body.total, 1, `found by ${Object.keys(body).join(',')}`);
  }
  // A search term in a URL is refused (the old GET form): it must not be answered as a search.
  const old = await admin.get('/api/v1/patients?q=Xaverhuber');
  t.is(old.status, 400);
  t.is(old.body.details[0].field, 'query.q');
  const log = captured.slice(before).join('');
  t.true(captured.length - before >= SEARCHES.length, 'the requests were logged');
  t.regex(log, /"route":"\/api\/v1\/patients\/search"/);
  t.deepEqual(leaks(log), [], 'no search term in the app log');
  const metrics = await (await fetch(app.metricsUrl)).text();
  t.regex(metrics, /route="\/api\/v1\/patients\/search"/);
  t.deepEqual(leaks(metrics), [], 'no search term in the metrics');
  const openapi = (await admin.get('/api/v1/openapi.json')).body;
  const listParams = (openapi.paths['/api/v1/patients'].get.parameters as { name: string }[]).map((p) => p.name);
  t.deepEqual(listParams.filter((n) => ['q', 'birthDate', 'phone', 'email'].includes(n)), [], 'the OpenAPI document offers no identifying query parameter');
  t.truthy(openapi.paths['/api/v1/patients/search'].post.requestBody);
});

const run = promisify(execFile);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/**
 * The appliance's Caddyfile, adapted by Caddy itself with the bundle's variables; only what
 * cannot run here is changed: plain HTTP on a loopback port instead of TLS on 443, no health server.
 */
async function proxyConfig(dir: string, upstream: string, port: number): Promise<Record<string, any>> {
  const caddyDir = path.join(dir, 'caddy');
  cpSync(path.resolve('appliance/docker/proxy/caddy'), caddyDir, { recursive: true });
  const file = path.join(caddyDir, 'Caddyfile');
  writeFileSync(file, readFileSync(file, 'utf8').replaceAll('/etc/caddy/', `${caddyDir}/`));
  const env = {
    ...process.env, PRAXISKERN_DOMAIN: 'localhost', PRAXISKERN_CLINIC_NETWORKS: '127.0.0.0/8', PRAXISKERN_PROXY_TLS: 'internal',
    PRAXISKERN_PUBLIC_WEBHOOKS: 'false', PRAXISKERN_PROXY_UPSTREAM: upstream, PRAXISKERN_PROXY_HEALTH_PORT: '1',
  };
  const { stdout } = await run('caddy', ['adapt', '--config', file, '--adapter', 'caddyfile'], { env });
  const config = JSON.parse(stdout);
  const servers = config.apps.http.servers as Record<string, any>;
  const [name] = Object.entries(servers).find(([, s]) => (s.listen as string[]).includes(':443'))!;
  const site = servers[name];
  site.listen = [`127.0.0.1:${port}`];
  site.automatic_https = { disable: true };
  delete site.tls_connection_policies;
  config.apps.http.servers = { [name]: site };
  delete config.apps.tls;
  return config;
}

async function startCaddy(config: Record<string, unknown>, dir: string, port: number): Promise<{ child: ChildProcess; output: () => string }> {
  const file = path.join(dir, 'caddy.json');
  writeFileSync(file, JSON.stringify(config));
  const child = spawn('caddy', ['run', '--config', file], { env: { ...process.env, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir, HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await fetch(`http://localhost:${port}/healthz`);
      break;
    } catch {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`caddy did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { child, output: () => out };
}

test('the appliance proxy (Caddy) logs each request without query string, Referer or body', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pk-caddy-'));
  const port = await freePort();
  const upstream = new URL(app.url).host;
  const config = await proxyConfig(dir, upstream, port);
  const caddy = await startCaddy(config, dir, port);
  try {
    const viaProxy = new Client(`http://localhost:${port}`);
    for (const [k, v] of admin.cookies) viaProxy.cookies.set(k, v);
    const headers = { referer: 'https://localhost/patients?q=Xaverhuber', 'accept-encoding': 'identity' };
    for (const body of SEARCHES) {
      const res = await viaProxy.post('/api/v1/patients/search', body, headers);
      t.is(res.status, 200);
      t.is(res.body?.total, 1);
    }
    // Whatever a client puts into a URL, the proxy log keeps no query string.
    await viaProxy.get('/api/v1/patients?q=Xaverhuber&birthDate=1961-07-29', headers);
    await viaProxy.get('/patients?q=wendeline.xaverhuber%40example.org', headers);
    const deadline = Date.now() + 5000;
    while ((caddy.output().match(/"http.log.access/g) ?? []).length < SEARCHES.length + 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  } finally {
    caddy.child.kill('SIGTERM');
    await new Promise((r) => caddy.child.once('exit', r));
  }
  const lines = caddy.output().split('\n').filter((l) => l.includes('"http.log.access') && !l.includes('"/healthz"'));
  t.is(lines.length, SEARCHES.length + 2, 'every request has an access-log line');
  const uris = lines.map((l) => JSON.parse(l).request.uri);
  t.deepEqual(uris, [...SEARCHES.map(() => '/api/v1/patients/search'), '/api/v1/patients', '/patients']);
  for (const l of lines) {
    const entry = JSON.parse(l);
    t.is(entry.request.headers.Referer, undefined, 'no Referer');
  }
  t.false(caddy.output().includes(admin.cookies.get('pk_session')!), 'the session cookie is not logged');
  t.deepEqual(leaks(caddy.output()), [], 'no search term in the proxy output');
});
