// The appliance proxy's Grafana route, run by Caddy itself (the Debian package, as in the proxy
// image): with PRAXISKERN_PROXY_GRAFANA=true, /grafana/ of the clinic's host name goes to Grafana's
// loopback port with the path unchanged (Grafana serves from the sub-path), only for the clinic
// networks; with false (no IdP: SSH tunnel only) the proxy never forwards to Grafana. Grafana itself
// is a stand-in HTTP server here: no Grafana binary or image is available on these machines.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '../..');

function runCaddy(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn('caddy', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => resolve({ code: 127, out, err: err + String(e) }));
    child.on('close', (code) => resolve({ code: code ?? 1, out, err }));
  });
}

/** A stand-in upstream that records each request path. */
async function upstream(name: string): Promise<{ port: number; paths: string[]; close: () => Promise<void> }> {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/plain' }).end(name);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as AddressInfo).port, paths, close: () => new Promise((r) => server.close(() => r())) };
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

interface Proxy { port: number; stop: () => void }

/**
 * The appliance's Caddyfile adapted by Caddy with the given variables, then served on a loopback
 * port over plain HTTP (TLS and the health server cannot run here) and started.
 */
async function startProxy(t: { teardown: (fn: () => void) => void }, env: Record<string, string>): Promise<Proxy> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pk-grafana-proxy-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const caddyDir = path.join(dir, 'caddy');
  cpSync(path.join(repo, 'appliance/docker/proxy/caddy'), caddyDir, { recursive: true });
  const file = path.join(caddyDir, 'Caddyfile');
  writeFileSync(file, readFileSync(file, 'utf8').replaceAll('/etc/caddy/', `${caddyDir}/`));
  const fullEnv = {
    ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir,
    PRAXISKERN_DOMAIN: 'praxis.test', PRAXISKERN_PROXY_TLS: 'internal', PRAXISKERN_PUBLIC_WEBHOOKS: 'false', PRAXISKERN_PROXY_HEALTH_PORT: '1',
    ...env,
  };
  const validate = await runCaddy(['validate', '--config', file, '--adapter', 'caddyfile'], fullEnv);
  if (validate.code !== 0) throw new Error(`caddy validate: ${validate.err}`);
  const adapted = await runCaddy(['adapt', '--config', file, '--adapter', 'caddyfile'], fullEnv);
  if (adapted.code !== 0) throw new Error(`caddy adapt: ${adapted.err}`);
  const config = JSON.parse(adapted.out);
  const servers = config.apps.http.servers as Record<string, any>;
  const [name, site] = Object.entries(servers).find(([, s]) => (s.listen as string[]).includes(':443'))!;
  const port = await freePort();
  site.listen = [`127.0.0.1:${port}`];
  site.automatic_https = { disable: true };
  delete site.tls_connection_policies;
  config.apps.http.servers = { [name]: site };
  delete config.apps.tls;
  const json = path.join(dir, 'caddy.json');
  writeFileSync(json, JSON.stringify(config));
  const child: ChildProcess = spawn('caddy', ['run', '--config', json], { env: fullEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const stop = () => child.kill('SIGTERM');
  t.teardown(stop);
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await get(port, '/healthz');
      break;
    } catch {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`caddy did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { port, stop };
}

function get(port: number, requestPath: string): Promise<{ status: number; body: string; location?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: requestPath, headers: { host: 'praxis.test' }, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, location: res.headers.location }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

test('with an IdP the proxy forwards /grafana/ to Grafana on loopback, path unchanged, for the clinic networks only', async (t) => {
  const app = await upstream('app');
  const grafana = await upstream('grafana');
  t.teardown(async () => { await app.close(); await grafana.close(); });
  const base = { PRAXISKERN_PROXY_UPSTREAM: `127.0.0.1:${app.port}`, PRAXISKERN_PROXY_GRAFANA: 'true', PRAXISKERN_PROXY_GRAFANA_UPSTREAM: `127.0.0.1:${grafana.port}` };

  const clinic = await startProxy(t, { ...base, PRAXISKERN_CLINIC_NETWORKS: '127.0.0.0/8' });
  const dash = await get(clinic.port, '/grafana/d/praxiskern-overview?orgId=1');
  t.is(dash.status, 200);
  t.is(dash.body, 'grafana');
  t.deepEqual(grafana.paths, ['/grafana/d/praxiskern-overview?orgId=1']);
  const bare = await get(clinic.port, '/grafana');
  t.is(bare.status, 308);
  t.is(bare.location, '/grafana/');
  const appPage = await get(clinic.port, '/patients');
  t.is(appPage.body, 'app');
  clinic.stop();

  // A client outside the clinic networks never reaches Grafana.
  grafana.paths.length = 0;
  const outside = await startProxy(t, { ...base, PRAXISKERN_CLINIC_NETWORKS: '10.0.0.0/8' });
  const refused = await get(outside.port, '/grafana/login');
  t.is(refused.status, 403);
  t.regex(refused.body, /only reachable from the clinic network/);
  t.deepEqual(grafana.paths, []);
});

test('without an IdP (PRAXISKERN_PROXY_GRAFANA=false, also the default) the proxy never forwards to Grafana', async (t) => {
  const app = await upstream('app');
  const grafana = await upstream('grafana');
  t.teardown(async () => { await app.close(); await grafana.close(); });
  for (const env of [{ PRAXISKERN_PROXY_GRAFANA: 'false' }, {}] as Record<string, string>[]) {
    const proxy = await startProxy(t, {
      PRAXISKERN_PROXY_UPSTREAM: `127.0.0.1:${app.port}`, PRAXISKERN_CLINIC_NETWORKS: '127.0.0.0/8', PRAXISKERN_PROXY_GRAFANA_UPSTREAM: `127.0.0.1:${grafana.port}`, ...env,
    });
    const r = await get(proxy.port, '/grafana/login');
    t.is(r.body, 'app', 'the path falls through to the app (which answers 404 for it)');
    proxy.stop();
  }
  t.deepEqual(grafana.paths, []);
});
