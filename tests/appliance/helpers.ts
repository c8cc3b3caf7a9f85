// Shared by the appliance tests: running commands, building the bundle images once per run,
// a containerised "fresh Hetzner server", ansible-playbook against it, and HTTPS requests that
// verify the certificate against the test's own CA.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, openSync, closeSync, rmSync, statSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

export const repo = path.resolve(import.meta.dirname, '../..');
export const cacheDir = process.env.PRAXISKERN_CACHE_DIR || '/var/cache/praxiskern-ci';
export const baseImagePrefix = 'praxiskern-base/debian';
export const imageTag = process.env.PRAXISKERN_E2E_TAG || 'e2e';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command without a shell; never throws on a non-zero exit. */
export function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + String(err) });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    if (child.stdin) {
      // A command may exit without reading its input; that is its answer, not an error here.
      child.stdin.on('error', () => {});
      child.stdin.end(opts.input);
    }
  });
}

/** Runs a command and throws with its output when it fails. */
export async function must(cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  return r.stdout;
}

/** Polls until fn returns a value other than undefined, or throws after the deadline. */
export async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>, intervalMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await delay(intervalMs);
  }
}

/** Serialises work across test processes (ava runs files in parallel). */
export async function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  mkdirSync(cacheDir, { recursive: true });
  const lock = path.join(cacheDir, `${name}.lock`);
  await waitFor(`lock ${lock}`, 45 * 60_000, async () => {
    try {
      closeSync(openSync(lock, 'wx'));
      return true;
    } catch {
      // A lock left by a killed run is stale after an hour.
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 60 * 60_000) rmSync(lock, { force: true });
      return undefined;
    }
  }, 2000);
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

export interface BundleImages {
  tag: string;
  archiveDir: string;
  buildSeconds: number;
}

/**
 * Builds the bundle images on the local debootstrap base (appliance/docker/build-images.sh)
 * and saves them as `docker save` tarballs for the offline install. Docker's layer cache makes
 * a rebuild without source changes take seconds; the tarballs are rewritten only when an image
 * id changed.
 */
export function bundleImages(): Promise<BundleImages> {
  return withLock('bundle-images', async () => {
    const started = Date.now();
    for (const suite of ['trixie', 'bookworm']) {
      const probe = await run('docker', ['image', 'inspect', `${baseImagePrefix}:${suite}-slim`]);
      if (probe.code !== 0) await must(path.join(repo, 'appliance/docker/build-base-images.sh'), [suite], { timeoutMs: 20 * 60_000 });
    }
    await must(path.join(repo, 'appliance/docker/build-images.sh'), ['--tag', imageTag], {
      env: { ...process.env, BASE_IMAGE: `${baseImagePrefix}:trixie-slim` },
      timeoutMs: 30 * 60_000,
    });
    const archiveDir = path.join(cacheDir, 'images', imageTag);
    mkdirSync(archiveDir, { recursive: true });
    for (const name of ['app', 'postgres', 'proxy']) {
      const image = `praxiskern/${name}:${imageTag}`;
      const id = (await must('docker', ['image', 'inspect', '--format', '{{.Id}}', image])).trim();
      const tar = path.join(archiveDir, `praxiskern-${name}-${imageTag}.tar`);
      const idFile = `${tar}.id`;
      if (existsSync(tar) && existsSync(idFile) && readFileSync(idFile, 'utf8') === id) continue;
      await must('docker', ['save', '--output', `${tar}.tmp`, image]);
      await must('mv', [`${tar}.tmp`, tar]);
      writeFileSync(idFile, id);
    }
    return { tag: imageTag, archiveDir, buildSeconds: Math.round((Date.now() - started) / 1000) };
  });
}

/** The stand-in server image (tests/appliance/server/Dockerfile) for one Debian suite. */
export async function serverImage(suite: string): Promise<string> {
  const image = `praxiskern-test/server:${suite}`;
  await withLock(`server-image-${suite}`, () =>
    must('docker', ['build', '--quiet', '--build-arg', `BASE_IMAGE=${baseImagePrefix}:${suite}-slim`, '--tag', image, path.join(repo, 'tests/appliance/server')], {
      timeoutMs: 15 * 60_000,
    }),
  );
  return image;
}

export interface Server {
  name: string;
  network: string;
  /** Address of the server inside its network. */
  ip: string;
  /** The address the server sees for connections from this machine (the network's gateway). */
  hostSideIp: string;
  sshPort: number;
  httpsPort: number;
  httpPort: number;
  exec(cmd: string, input?: string): Promise<RunResult>;
  /** Restarts the server container (systemd shuts down and boots); the published ports change. */
  restart(): Promise<void>;
  remove(): Promise<void>;
}

async function publishedPort(name: string, port: number): Promise<number> {
  const out = await must('docker', ['port', name, `${port}/tcp`]);
  const m = /127\.0\.0\.1:(\d+)/.exec(out);
  if (!m) throw new Error(`no loopback port published for ${name}:${port}: ${out}`);
  return Number(m[1]);
}

/**
 * Starts a fresh server: systemd as PID 1, sshd accepting the given public key for root, its own
 * Docker engine storage on a volume (overlay2 does not nest on overlayfs), on a private network,
 * with SSH/HTTP/HTTPS published on this machine's loopback only.
 */
export async function startServer(suite: string, publicKey: string): Promise<Server> {
  const image = await serverImage(suite);
  const name = `praxiskern-e2e-${suite}-${process.pid}`;
  const network = name;
  await run('docker', ['rm', '--force', '--volumes', name]);
  await run('docker', ['network', 'rm', network]);
  await must('docker', ['network', 'create', network]);
  await must('docker', ['volume', 'create', `${name}-docker`]);
  await must('docker', [
    'run', '--detach', '--name', name, '--hostname', 'praxis-server', '--network', network,
    '--cap-add=ALL', '--cap-drop=SYS_RESOURCE', '--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined',
    '--security-opt', 'systempaths=unconfined', '--cgroupns=host', '--volume', '/sys/fs/cgroup:/sys/fs/cgroup:rw', '--tmpfs', '/run', '--tmpfs', '/run/lock',
    '--volume', `${name}-docker:/var/lib/docker`,
    '--publish', '127.0.0.1::22', '--publish', '127.0.0.1::443', '--publish', '127.0.0.1::80',
    image,
  ]);
  const exec = (cmd: string, input?: string) => run('docker', ['exec', '-i', name, 'sh', '-c', cmd], { input });
  await waitFor(`systemd in ${name}`, 120_000, async () => {
    const r = await exec('systemctl is-system-running');
    return /running|degraded/.test(r.stdout) ? true : undefined;
  });
  await must('docker', ['exec', '-i', name, 'sh', '-c', 'umask 077 && mkdir -p /root/.ssh && cat > /root/.ssh/authorized_keys'], { input: publicKey });
  const inspect = JSON.parse(await must('docker', ['network', 'inspect', network]))[0];
  const hostSideIp: string = inspect.IPAM.Config[0].Gateway;
  const ip = (await must('docker', ['inspect', '--format', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, name])).trim();
  const server: Server = {
    name,
    network,
    ip,
    hostSideIp,
    sshPort: await publishedPort(name, 22),
    httpsPort: await publishedPort(name, 443),
    httpPort: await publishedPort(name, 80),
    exec,
    async restart() {
      await must('docker', ['restart', '--time', '90', name]);
      server.sshPort = await publishedPort(name, 22);
      server.httpsPort = await publishedPort(name, 443);
      server.httpPort = await publishedPort(name, 80);
    },
    async remove() {
      if (process.env.PRAXISKERN_E2E_KEEP) return;
      await run('docker', ['rm', '--force', '--volumes', name]);
      await run('docker', ['volume', 'rm', `${name}-docker`]);
      await run('docker', ['network', 'rm', network]);
    },
  };
  return server;
}

/** A throw-away directory with an SSH key pair and a CA plus a server certificate for domain. */
export async function makeCredentials(domain: string): Promise<{ dir: string; privateKey: string; publicKey: string; caCert: string; certFile: string; keyFile: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'praxiskern-e2e-'));
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'praxiskern-e2e', '-f', path.join(dir, 'id_ed25519')]);
  const o = (...a: string[]) => must('openssl', a, { cwd: dir });
  await o('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Praxiskern e2e CA');
  await o('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'privkey.pem', '-out', 'server.csr', '-subj', `/CN=${domain}`);
  writeFileSync(path.join(dir, 'ext.cnf'), `subjectAltName=DNS:${domain}\nextendedKeyUsage=serverAuth\n`);
  await o('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf');
  writeFileSync(path.join(dir, 'fullchain.pem'), readFileSync(path.join(dir, 'server.pem')));
  return {
    dir,
    privateKey: path.join(dir, 'id_ed25519'),
    publicKey: readFileSync(path.join(dir, 'id_ed25519.pub'), 'utf8'),
    caCert: readFileSync(path.join(dir, 'ca.pem'), 'utf8'),
    certFile: path.join(dir, 'fullchain.pem'),
    keyFile: path.join(dir, 'privkey.pem'),
  };
}

export interface PlaybookRun extends RunResult {
  seconds: number;
  recap: { ok: number; changed: number; failed: number; unreachable: number } | undefined;
}

/** ansible-playbook ansible/site.yml against the server over SSH, with the given variables. */
export async function playbook(server: Server, privateKey: string, vars: Record<string, unknown>, workDir: string): Promise<PlaybookRun> {
  const inventory = path.join(workDir, 'inventory.yml');
  writeFileSync(inventory, JSON.stringify({
    all: { children: { praxiskern: { hosts: { 'praxis-server': {
      ansible_host: '127.0.0.1', ansible_port: server.sshPort, ansible_user: 'root', ansible_ssh_private_key_file: privateKey,
      ansible_ssh_common_args: '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null',
    } } } } },
  }));
  const varsFile = path.join(workDir, 'vars.json');
  writeFileSync(varsFile, JSON.stringify(vars));
  const started = Date.now();
  const r = await run('ansible-playbook', ['-i', inventory, '-e', `@${varsFile}`, path.join(repo, 'ansible/site.yml')], {
    cwd: path.join(repo, 'ansible'),
    env: { ...process.env, ANSIBLE_CONFIG: path.join(repo, 'ansible/ansible.cfg'), ANSIBLE_FORCE_COLOR: '0', ANSIBLE_NOCOLOR: '1', ANSIBLE_HOST_KEY_CHECKING: 'False' },
    timeoutMs: 40 * 60_000,
  });
  const m = /praxis-server\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/.exec(r.stdout);
  return {
    ...r,
    seconds: Math.round((Date.now() - started) / 1000),
    recap: m ? { ok: Number(m[1]), changed: Number(m[2]), unreachable: Number(m[3]), failed: Number(m[4]) } : undefined,
  };
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  tlsProtocol?: string;
}

/** An HTTPS request to 127.0.0.1:port for the given host name, trusting only ca. */
export function httpsRequest(opts: { port: number; host: string; ca: string; method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port: opts.port, servername: opts.host, ca: opts.ca, method: opts.method ?? 'GET', path: opts.path,
      headers: { host: opts.host, ...(opts.body ? { 'content-type': 'application/json' } : {}), ...opts.headers },
      timeout: 15_000,
    }, (res) => {
      const tlsProtocol = (res.socket as import('node:tls').TLSSocket).getProtocol() ?? undefined;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, tlsProtocol }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

export function httpRequest(opts: { port: number; host: string; path: string }): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: opts.port, path: opts.path, headers: { host: opts.host }, timeout: 15_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Cookies from Set-Cookie headers as a name -> value map. */
export function cookies(res: HttpResponse): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of res.headers['set-cookie'] ?? []) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    out[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
  }
  return out;
}

export interface ReleaseKey {
  dir: string;
  /** The private key file (ssh-keygen -Y sign -f). */
  key: string;
  /** "ssh-ed25519 AAAA… praxiskern-release" for praxiskern_appliance_release_public_key. */
  publicKey: string;
}

/** A release signing key made for this test run (never committed). */
export async function releaseKey(): Promise<ReleaseKey> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'praxiskern-release-key-'));
  const key = path.join(dir, 'key');
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'praxiskern-release', '-f', key]);
  return { dir, key, publicKey: readFileSync(`${key}.pub`, 'utf8').trim() };
}

export interface Release {
  version: string;
  bundle: string;
  bytes: number;
  /** Seconds for the images (build-images.sh, layer cache) and for the bundle (save, hash, tar, sign). */
  imageSeconds: number;
  bundleSeconds: number;
}

/**
 * Builds a signed release bundle of repoDir (default: this checkout) as praxiskern-<version>.tar in
 * out: the images on the local debootstrap base, then appliance/release/build-bundle.ts.
 */
export async function releaseBundle(opts: { version: string; key: ReleaseKey; out: string; repoDir?: string; notes?: string; updatesFrom?: string }): Promise<Release> {
  const repoDir = opts.repoDir ?? repo;
  const started = Date.now();
  await withLock('bundle-images', async () => {
    for (const suite of ['trixie', 'bookworm']) {
      const probe = await run('docker', ['image', 'inspect', `${baseImagePrefix}:${suite}-slim`]);
      if (probe.code !== 0) await must(path.join(repo, 'appliance/docker/build-base-images.sh'), [suite], { timeoutMs: 20 * 60_000 });
    }
    await must(path.join(repoDir, 'appliance/docker/build-images.sh'), ['--tag', opts.version], {
      env: { ...process.env, BASE_IMAGE: `${baseImagePrefix}:trixie-slim` },
      timeoutMs: 30 * 60_000,
    });
  });
  const imageSeconds = Math.round((Date.now() - started) / 1000);
  const { buildBundle } = await import('../../appliance/release/build-bundle.ts');
  let notes: string | undefined;
  if (opts.notes) {
    notes = path.join(opts.out, `notes-${opts.version}.md`);
    mkdirSync(opts.out, { recursive: true });
    writeFileSync(notes, opts.notes);
  }
  const r = await buildBundle({ repo: repoDir, version: opts.version, key: opts.key.key, notes, updatesFrom: opts.updatesFrom, out: opts.out, build: false });
  return { version: opts.version, bundle: r.bundle, bytes: r.bytes, imageSeconds, bundleSeconds: r.seconds };
}
