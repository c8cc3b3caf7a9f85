// Off-site targets against the real thing: an OpenSSH sshd on loopback (tests/helpers/sshd.ts) for
// the SFTP target, a temp directory for the local target. The same contract runs against both.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import test, { type ExecutionContext } from 'ava';
import {
  createLocalDirectoryTarget,
  createSftpTarget,
  DEFAULT_SFTP_PORT,
  TargetError,
  type BackupTarget,
  type SftpTargetConfig,
  type TargetConfig,
  type TargetErrorCode,
} from '../../app/api/src/modules/backup/targets/index.ts';
import { fromFsError } from '../../app/api/src/modules/backup/targets/local-directory.repository.ts';
import { freePort, generateKeyPair, startSshd, type Sshd } from '../helpers/sshd.ts';

const NODE = process.execPath;
const TARGETS_MODULE = new URL('../../app/api/src/modules/backup/targets/index.ts', import.meta.url).href;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const from = (...parts: Array<string | Buffer>) => Readable.from(parts.map((p) => Buffer.from(p)));

let sshd: Sshd;
let localBase: string;
let counter = 0;

test.before(async () => {
  sshd = await startSshd();
  localBase = await mkdtemp(join(tmpdir(), 'local-target-'));
});
test.after.always(async () => {
  await sshd?.stop();
  if (localBase) await rm(localBase, { recursive: true, force: true });
});

const sftpConfig = (overrides: Partial<SftpTargetConfig> = {}, server = sshd): SftpTargetConfig => ({
  name: 'storagebox',
  host: server.host,
  port: server.port,
  username: server.username,
  privateKey: server.clientKey.privateKey,
  hostKeyFingerprint: server.hostKeyFingerprint,
  readyTimeoutMs: 10_000,
  ...overrides,
});

interface Fixture {
  target: BackupTarget;
  config: TargetConfig;
  /** Where the target's files really are on this machine. */
  dir: string;
}

/** A target with its own empty root, closed when the test ends. */
async function fixture(t: ExecutionContext, kind: 'local' | 'sftp', server = sshd): Promise<Fixture> {
  const root = `t${++counter}`;
  const config: TargetConfig =
    kind === 'local' ? { type: 'local', name: 'usb', path: join(localBase, root) } : { type: 'sftp', ...sftpConfig({ root }, server) };
  const dir = kind === 'local' ? join(localBase, root) : join(server.root, root);
  if (kind === 'local') await mkdir(dir);
  const target = kind === 'local' ? createLocalDirectoryTarget(config as { name: string; path: string }) : createSftpTarget(config as SftpTargetConfig);
  t.teardown(() => target.close());
  return { target, config, dir };
}

async function expectTargetError(t: ExecutionContext, promise: Promise<unknown>, code: TargetErrorCode, message?: RegExp) {
  const err = await t.throwsAsync(promise, { instanceOf: TargetError });
  t.is(err?.code, code, err?.message);
  if (message) t.regex(err?.message ?? '', message);
  t.notRegex(err?.message ?? '', /\n/, 'one line');
}

/** Waits for a condition on the real file system, with a deadline. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, deadlineMs = 10_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const kind of ['local', 'sftp'] as const) {
  test(`${kind}: a few-MB file round-trips with the same SHA-256`, async (t) => {
    const { target } = await fixture(t, kind);
    const data = randomBytes(5 * 1024 * 1024 + 17);
    const parts = Array.from({ length: Math.ceil(data.length / 65536) }, (_, i) => data.subarray(i * 65536, (i + 1) * 65536));
    const put = await target.put('snapshots/2027-01-01/db.dump.age', Readable.from(parts));
    t.is(put.size, data.length);
    t.is(sha(await buffer(await target.get('snapshots/2027-01-01/db.dump.age'))), sha(data));
    t.is((await target.stat('snapshots/2027-01-01/db.dump.age'))?.size, data.length);
  });

  test(`${kind}: list reports the files under a prefix; delete removes them`, async (t) => {
    const { target } = await fixture(t, kind);
    await target.put('snapshots/a/manifest.json', from('{}'));
    await target.put('snapshots/b/manifest.json', from('{"b":1}'));
    await target.put('blobs/ab/abcdef', from('blob'));
    const paths = async (prefix?: string) => (await target.list(prefix)).map((e) => e.path);
    t.deepEqual(await paths(), ['blobs/ab/abcdef', 'snapshots/a/manifest.json', 'snapshots/b/manifest.json']);
    t.deepEqual(await paths('snapshots/'), ['snapshots/a/manifest.json', 'snapshots/b/manifest.json']);
    t.deepEqual(await paths('snapshots/b'), ['snapshots/b/manifest.json']);
    t.deepEqual(await paths('nothing/here/'), []);
    t.is((await target.list('snapshots/b/'))[0].size, 7);
    await target.delete('snapshots/a/manifest.json');
    t.deepEqual(await paths('snapshots/'), ['snapshots/b/manifest.json']);
    t.is(await target.stat('snapshots/a/manifest.json'), undefined);
    await expectTargetError(t, target.delete('snapshots/a/manifest.json'), 'target_missing', /snapshots\/a\/manifest.json does not exist/);
  });

  test(`${kind}: a missing file gives target_missing on get`, async (t) => {
    const { target } = await fixture(t, kind);
    await expectTargetError(t, target.get('snapshots/none/db.age'), 'target_missing', /^backup target "(usb|storagebox)": snapshots\/none\/db.age does not exist$/);
  });

  test(`${kind}: a second put replaces the file`, async (t) => {
    const { target } = await fixture(t, kind);
    await target.put('latest.json', from('one'));
    await target.put('latest.json', from('two, longer'));
    t.is((await buffer(await target.get('latest.json'))).toString(), 'two, longer');
    t.deepEqual((await target.list()).map((e) => e.path), ['latest.json']);
  });

  test(`${kind}: a source that fails mid-upload leaves neither the file nor a partial`, async (t) => {
    const { target, dir } = await fixture(t, kind);
    const source = new Readable({
      read() {
        this.push(randomBytes(100_000));
        this.destroy(new Error('pg_dump exited with 1'));
      },
    });
    await t.throwsAsync(target.put('snapshots/x/db.dump.age', source), { message: /pg_dump exited with 1/ });
    t.deepEqual(await target.list(), []);
    t.deepEqual(await readdir(join(dir, 'snapshots/x')), [], 'no partial file on the storage');
  });

  test(`${kind}: paths that escape the root or look unfinished are refused`, async (t) => {
    const { target } = await fixture(t, kind);
    for (const bad of ['../etc/passwd', '/abs', 'a//b', 'a/./b', 'dir/', '', 'db.age.partial-0011223344556677']) {
      await expectTargetError(t, target.put(bad, from('x')), 'target_invalid_path');
    }
  });

  test(`${kind}: free space is reported`, async (t) => {
    const { target } = await fixture(t, kind);
    t.true(((await target.freeBytes?.()) ?? 0) > 0);
  });

  test(`${kind}: a killed upload leaves only a .partial- file, which list() does not report`, async (t) => {
    const { target, config, dir } = await fixture(t, kind);
    // A child process uploads from a source that sends 512 KiB and then stalls; it is killed mid-upload.
    const script = `
      const { createTarget } = await import(${JSON.stringify(TARGETS_MODULE)});
      const { Readable } = await import('node:stream');
      let sent = 0;
      const source = new Readable({ read() { if (sent < 8) { sent++; this.push(Buffer.alloc(65536, 7)); } } });
      await createTarget(JSON.parse(process.env.TARGET_CONFIG)).put('snapshots/killed/db.dump.age', source);`;
    const child = spawn(NODE, ['--input-type=module', '-e', script], { env: { ...process.env, TARGET_CONFIG: JSON.stringify(config) }, stdio: 'inherit' });
    t.teardown(() => child.kill('SIGKILL'));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const partial = await until('the partial upload on the storage', async () => {
      const names = await readdir(join(dir, 'snapshots/killed')).catch(() => []);
      const name = names.find((n) => n.startsWith('db.dump.age.partial-'));
      return name && (await stat(join(dir, 'snapshots/killed', name))).size === 8 * 65536 ? name : undefined;
    });
    child.kill('SIGKILL');
    await exited;
    t.regex(partial, /^db\.dump\.age\.partial-[0-9a-f]{16}$/);
    t.deepEqual(await readdir(join(dir, 'snapshots/killed')), [partial], 'only the partial file exists');
    t.deepEqual(await target.list(), []);
    t.is(await target.stat('snapshots/killed/db.dump.age'), undefined);
    await expectTargetError(t, target.get('snapshots/killed/db.dump.age'), 'target_missing');
  });
}

test('sftp: a wrong host key pin is refused, naming both fingerprints', async (t) => {
  const other = await generateKeyPair(sshd.dir, `other-${++counter}`);
  const target = createSftpTarget(sftpConfig({ hostKeyFingerprint: other.fingerprint }));
  t.teardown(() => target.close());
  const expected = new RegExp(`host key mismatch: the server presented ${literal(sshd.hostKeyFingerprint)}, the pinned key is ${literal(other.fingerprint)}`);
  await expectTargetError(t, target.list(), 'target_host_key_mismatch', expected);
});

test('sftp: without a pinned host key the target refuses to connect', async (t) => {
  const target = createSftpTarget(sftpConfig({ hostKeyFingerprint: undefined }));
  t.teardown(() => target.close());
  await expectTargetError(t, target.put('x', from('x')), 'target_host_key_unpinned', new RegExp(`server presents ${literal(sshd.hostKeyFingerprint)}`));
  t.deepEqual(await readdir(sshd.root).then((names) => names.filter((n) => n === 'x')), []);
});

test('sftp: the pin may be given without the "SHA256:" prefix', async (t) => {
  const target = createSftpTarget(sftpConfig({ hostKeyFingerprint: sshd.hostKeyFingerprint.slice('SHA256:'.length) }));
  t.teardown(() => target.close());
  t.true(Array.isArray(await target.list('t-none/')));
});

test('sftp: a client key the server does not know is refused', async (t) => {
  const stranger = await generateKeyPair(sshd.dir, `stranger-${++counter}`);
  const target = createSftpTarget(sftpConfig({ privateKey: stranger.privateKey }));
  t.teardown(() => target.close());
  await expectTargetError(t, target.list(), 'target_auth_failed', /refused key authentication for user/);
});

test('sftp: a port where nothing listens gives target_unreachable', async (t) => {
  const port = await freePort();
  const target = createSftpTarget(sftpConfig({ port }));
  t.teardown(() => target.close());
  await expectTargetError(t, target.list(), 'target_unreachable', new RegExp(`cannot reach 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
});

test('sftp: the port defaults to 23, as on a Hetzner Storage Box', async (t) => {
  t.is(DEFAULT_SFTP_PORT, 23);
  const target = createSftpTarget(sftpConfig({ port: undefined }));
  t.teardown(() => target.close());
  await expectTargetError(t, target.list(), 'target_unreachable', /cannot reach 127\.0\.0\.1:23 \(/);
});

test('sftp: a full disk gives target_full and leaves no file behind', async (t) => {
  const small = await startSshd({ fileSizeLimitKiB: 256 }); // writes beyond 256 KiB fail as on a full disk
  t.teardown(() => small.stop());
  const { target, dir } = await fixture(t, 'sftp', small);
  await target.put('fits.bin', Readable.from([randomBytes(100_000)]));
  await expectTargetError(t, target.put('snapshots/s/db.dump.age', Readable.from([randomBytes(1 << 20)])), 'target_full', /no space left while writing snapshots\/s\/db.dump.age/);
  t.deepEqual((await target.list()).map((e) => e.path), ['fits.bin']);
  t.deepEqual(await readdir(join(dir, 'snapshots/s')), []);
});

test('sftp: a target that refuses writes gives target_permission_denied', async (t) => {
  // As root, directory modes do not stop writes, so the server is made read-only instead (internal-sftp -R).
  const readOnly = await startSshd({ readOnly: true });
  t.teardown(() => readOnly.stop());
  const target = createSftpTarget(sftpConfig({}, readOnly));
  t.teardown(() => target.close());
  await expectTargetError(t, target.put('db.dump.age', from('data')), 'target_permission_denied', /permission denied for db.dump.age/);
});

test('sftp: the connection is re-opened after it dropped', async (t) => {
  const { target } = await fixture(t, 'sftp');
  await target.put('one', from('1'));
  await target.close();
  t.is((await buffer(await target.get('one'))).toString(), '1');
});

test('local: a file size limit (ulimit -f) gives target_full and leaves no file behind', async (t) => {
  const { config, dir } = await fixture(t, 'local');
  const script = `
    const { createTarget } = await import(${JSON.stringify(TARGETS_MODULE)});
    const { Readable } = await import('node:stream');
    const target = createTarget(JSON.parse(process.env.TARGET_CONFIG));
    const error = await target.put('snapshots/s/db.dump.age', Readable.from([Buffer.alloc(1 << 20)])).then(() => undefined, (e) => e);
    console.log(JSON.stringify({ code: error?.code, message: error?.message }));`;
  // Node ignores SIGXFSZ, so writing past RLIMIT_FSIZE fails with EFBIG instead of killing the child.
  const child = spawn('prlimit', ['--fsize=262144:262144', NODE, '--input-type=module', '-e', script], {
    env: { ...process.env, TARGET_CONFIG: JSON.stringify(config) },
  });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const code = await new Promise((resolve) => child.once('close', resolve));
  t.is(code, 0);
  const result = JSON.parse(stdout) as { code: string; message: string };
  t.is(result.code, 'target_full');
  t.is(result.message, 'backup target "usb": no space left while writing snapshots/s/db.dump.age (file too large for the target)');
  t.deepEqual(await readdir(join(dir, 'snapshots/s')), [], 'no partial file left');
});

test('local: ENOSPC and EDQUOT mean a full target; EACCES/EROFS permission; ENOENT missing', (t) => {
  const errno = (code: string) => Object.assign(new Error(code), { code });
  t.is(fromFsError('usb', 'put', 'a', errno('ENOSPC')).code, 'target_full');
  t.is(fromFsError('usb', 'put', 'a', errno('EDQUOT')).message, 'backup target "usb": no space left while writing a (disk or quota full)');
  t.is(fromFsError('usb', 'put', 'a', errno('EROFS')).code, 'target_permission_denied');
  t.is(fromFsError('usb', 'put', 'a', errno('EACCES')).code, 'target_permission_denied');
  t.is(fromFsError('usb', 'get', 'a', errno('ENOENT')).code, 'target_missing');
  t.is(fromFsError('usb', 'get', 'a', errno('EIO')).message, 'backup target "usb": get a failed (EIO)');
});

test('local: a directory that does not exist (unmounted disk) is not created but reported', async (t) => {
  const target = createLocalDirectoryTarget({ name: 'usb', path: join(localBase, 'not-mounted') });
  await expectTargetError(t, target.put('db.age', from('x')), 'target_unreachable', /not-mounted \(directory does not exist \(not mounted\?\)\)/);
  await t.throwsAsync(stat(join(localBase, 'not-mounted')), { code: 'ENOENT' });
});

function literal(text: string) {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
