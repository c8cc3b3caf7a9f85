// A real OpenSSH server for tests: its own host key, config and authorized_keys in a temp
// directory, on a free loopback port, SFTP only (internal-sftp), key authentication only.
// Needs the Debian packages openssh-server and openssh-client. Works as root (logs in as root,
// PermitRootLogin prohibit-password) and as an ordinary user (logs in as that user).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SSHD = '/usr/sbin/sshd'; // sshd re-executes itself and insists on an absolute path

export interface SshdOptions {
  /** RLIMIT_FSIZE (KiB) of the server and its SFTP sessions: larger writes fail the way a full disk does. */
  fileSizeLimitKiB?: number;
  /** internal-sftp -R: every write request is refused with PERMISSION_DENIED. */
  readOnly?: boolean;
  /** Deadline for the server to listen. */
  startTimeoutMs?: number;
}

export interface SshKeyPair {
  privateKey: string;
  publicKey: string;
  privateKeyPath: string;
  /** "SHA256:…" as `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

export interface Sshd {
  host: string;
  port: number;
  username: string;
  /** Temp directory holding config, keys and `root`; removed by stop(). */
  dir: string;
  /** Absolute path of the SFTP start directory (the "home" of the session), empty at start. */
  root: string;
  /** A client key that is authorized. */
  clientKey: SshKeyPair;
  hostKeyFingerprint: string;
  authorize(publicKey: string): Promise<void>;
  /** sshd's stderr so far (-e), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export async function generateKeyPair(dir: string, name: string): Promise<SshKeyPair> {
  const privateKeyPath = join(dir, name);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', privateKeyPath]);
  const { stdout } = await run('ssh-keygen', ['-l', '-f', `${privateKeyPath}.pub`]);
  return {
    privateKey: await readFile(privateKeyPath, 'utf8'),
    publicKey: await readFile(`${privateKeyPath}.pub`, 'utf8'),
    privateKeyPath,
    fingerprint: stdout.split(' ')[1],
  };
}

/** A port that was free a moment ago (startSshd retries if another process takes it first). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when a TCP connection to host:port succeeds, rejects when it is refused. */
export function probePort(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}

function config(dir: string, root: string, port: number, username: string, options: SshdOptions): string {
  const sftp = `internal-sftp -d ${root}${options.readOnly ? ' -R' : ''}`;
  return [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'host_ed25519')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'StrictModes no',
    'UsePAM no',
    'UseDNS no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'PermitRootLogin prohibit-password',
    `AllowUsers ${username}`,
    `Subsystem sftp ${sftp}`,
    `ForceCommand ${sftp}`,
    'LogLevel VERBOSE',
    '',
  ].join('\n');
}

/** Starts sshd -D and resolves once it logs that it listens and a connection succeeds. */
function launch(cfgPath: string, port: number, options: SshdOptions): Promise<{ child: ChildProcess; log: () => string }> {
  // The file size limit is set with prlimit (util-linux). `trap '' XFSZ`: an ignored signal stays
  // ignored across exec, so an over-limit write returns EFBIG (reported as SFTP FAILURE, like
  // ENOSPC) instead of killing the session.
  const bytes = (options.fileSizeLimitKiB ?? 0) * 1024;
  const limit = bytes ? `trap '' XFSZ; exec prlimit --fsize=${bytes}:${bytes} ` : 'exec ';
  const child = spawn('/bin/sh', ['-c', `${limit}${SSHD} -D -e -f "$0"`, cfgPath], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let output = '';
  const deadline = options.startTimeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`sshd did not listen within ${deadline} ms:\n${output}`)), deadline);
    const fail = (err: Error) => {
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
      reject(err);
    };
    const exited = (code: number | null) => fail(new Error(`sshd exited (${code}):\n${output}`));
    child.once('exit', exited);
    let listening = false;
    child.stderr!.on('data', (data: Buffer) => {
      output += data.toString();
      if (listening || !output.includes(`Server listening on 127.0.0.1 port ${port}`)) return;
      listening = true;
      clearTimeout(timer);
      child.off('exit', exited); // only this listener: Node's own 'exit' handling must stay
      probePort('127.0.0.1', port).then(() => resolve({ child, log: () => output }), fail);
    });
  });
}

export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  const dir = await mkdtemp(join(tmpdir(), 'sshd-test-'));
  const root = join(dir, 'root');
  await mkdir(root);
  const username = userInfo().username;
  if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation dir
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_ed25519')]);
  const hostKeyFingerprint = (await run('ssh-keygen', ['-l', '-f', join(dir, 'host_ed25519.pub')])).stdout.split(' ')[1];
  const clientKey = await generateKeyPair(dir, 'client_ed25519');
  await writeFile(join(dir, 'authorized_keys'), clientKey.publicKey, { mode: 0o600 });

  let started: { child: ChildProcess; log: () => string } | undefined;
  let port = 0;
  for (let attempt = 1; !started; attempt++) {
    port = await freePort();
    const cfgPath = join(dir, 'sshd_config');
    await writeFile(cfgPath, config(dir, root, port, username, options));
    try {
      started = await launch(cfgPath, port, options);
    } catch (err) {
      if (attempt >= 3 || !String(err).includes('Address already in use')) throw err;
    }
  }
  const { child, log } = started;
  // If the test process dies before stop() (e.g. an uncaught exception), take the server and its files along.
  const killGroup = () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killGroup);

  return {
    host: '127.0.0.1',
    port,
    username,
    dir,
    root,
    clientKey,
    hostKeyFingerprint,
    authorize: (publicKey) => appendFile(join(dir, 'authorized_keys'), publicKey),
    log,
    async stop() {
      process.off('exit', killGroup);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        process.kill(-child.pid!, 'SIGTERM'); // the listener and its session processes
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
