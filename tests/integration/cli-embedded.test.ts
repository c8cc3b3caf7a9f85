// The CLI on a single machine with the embedded PostgreSQL: commands reuse the cluster of a running
// server instead of starting a second one, a taken port is named, PostgreSQL's own log stays in the
// data directory, and the first start points at the setup page.
import test from 'ava';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const NODE = 'node_modules/.bin/node';
const CLI = 'appliance/src/cli.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function envFor(dataDir: string, pgPort: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PRAXISKERN_DATA_DIR: dataDir, PRAXISKERN_EMBEDDED_PG_PORT: String(pgPort), LOG_LEVEL: 'silent' };
  delete env.DATABASE_URL;
  delete env.DATABASE_OWNER_URL;
  return env;
}

const cli = (args: string[], env: NodeJS.ProcessEnv) =>
  run(NODE, [CLI, ...args], { env, timeout: 240_000 }).then((r) => ({ code: 0, ...r }), (e) => e as { code: number; stdout: string; stderr: string });

/** Starts `praxiskern start` and resolves with its first lines once it says it is running. */
function startServer(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(NODE, [CLI, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 180_000);
    const check = () => {
      if (/is running at/.test(out) && /\n.*\n/.test(out)) {
        clearTimeout(deadline);
        resolve({ child, output: () => out });
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

test.serial('while the server runs on the embedded PostgreSQL, init, audit verify and demo-data reuse its cluster; its log stays in the data directory', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pk-cli-embedded-'));
  const env = { ...envFor(dataDir, await freePort()), PORT: String(await freePort()), METRICS_PORT: '0', PRAXISKERN_PUBLIC_URL: 'http://localhost:18080' };
  const server = await startServer(env);
  t.teardown(async () => {
    await stopServer(server.child);
    rmSync(dataDir, { recursive: true, force: true });
  });
  t.regex(server.output(), /Not set up yet: open http:\/\/localhost:18080\/setup/);
  t.notRegex(server.output(), /sealed/);

  const pw = path.join(dataDir, 'admin.pw');
  const pp = path.join(dataDir, 'pass.pp');
  writeFileSync(pw, 'an admin password that is long\n', { mode: 0o600 });
  writeFileSync(pp, 'the practice passphrase\n', { mode: 0o600 });
  const init = await cli(['init', '--org-name', 'Praxis Ost', '--org-slug', 'praxis-ost', '--admin-username', 'it-admin',
    '--admin-password-file', pw, '--passphrase-file', pp, '--json'], env);
  t.is(init.code, 0, init.stderr);
  t.true(JSON.parse(init.stdout).initialized);

  const verify = await cli(['audit', 'verify'], env);
  t.is(verify.code, 0, verify.stderr);
  t.regex(verify.stdout, /Audit log intact/);

  const demo = await cli(['demo-data', '--patients', '2', '--passphrase-file', pp, '--json'], env);
  t.is(demo.code, 0, demo.stderr);
  t.is(JSON.parse(demo.stdout).created, 2);

  const log = path.join(dataDir, 'log', 'postgresql.log');
  t.true(existsSync(log));
  t.is(statSync(log).mode & 0o777, 0o600);
  t.regex(readFileSync(log, 'utf8'), /database system is ready to accept connections/);
});

test.serial('a command that must start the embedded PostgreSQL on a taken port names the port instead of "undefined"', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pk-cli-port-'));
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as net.AddressInfo).port;
  t.teardown(() => {
    blocker.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  for (const args of [['audit', 'verify'], ['demo-data', '--patients', '1'], ['restore', '--identity-file', path.join(dataDir, 'none')], ['migrate']]) {
    const r = await cli(args, envFor(dataDir, port));
    t.is(r.code, 1, args.join(' '));
    t.is(r.stderr.trim(), `praxiskern: port ${port} is already in use by another program: stop it or choose another port with PRAXISKERN_EMBEDDED_PG_PORT`);
    t.notRegex(r.stderr, /undefined/);
  }
  const json = await cli(['audit', 'verify', '--json'], envFor(dataDir, port));
  t.deepEqual(JSON.parse(json.stdout), { ok: false, error: `port ${port} is already in use by another program: stop it or choose another port with PRAXISKERN_EMBEDDED_PG_PORT` });
});
