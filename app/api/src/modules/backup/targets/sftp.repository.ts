// A backup target on an SFTP server (Hetzner Storage Box style). One connection per target,
// opened on first use and re-opened after it drops.
import { posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileEntry, SFTPWrapper, Stats } from 'ssh2';
import { AppError } from '../../../core/errors.ts';
import { call, connectSftp, type SftpSession, type SftpTargetConfig } from './sftp-connection.ts';
import { sftpFileReader } from './sftp-reader.ts';
import { sftpFileWriter } from './sftp-writer.ts';
import { checkRelPath, listed, partialPath, prefixDirectory, type BackupTarget, type TargetEntry } from './target.ts';
import { failed, full, missing, permissionDenied } from './target.errors.ts';

// SFTP v3 status codes (draft-ietf-secsh-filexfer-02).
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;
const FAILURE = 4;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

type Attrs = Pick<Stats, 'mode' | 'size' | 'mtime'>;
const statusOf = (err: unknown) => (err as { code?: unknown })?.code;
const isDirectory = (a: Attrs) => (a.mode & S_IFMT) === S_IFDIR;
const isFile = (a: Attrs) => (a.mode & S_IFMT) === S_IFREG;
const entry = (path: string, a: Attrs): TargetEntry => ({ path, size: a.size, modifiedAt: new Date(a.mtime * 1000) });

export function createSftpTarget(config: SftpTargetConfig): BackupTarget {
  const { name } = config;
  const root = config.root ?? '';
  const remote = (rel: string) => (root ? posix.join(root, rel) : rel || '.');
  let session: Promise<SftpSession> | undefined;

  async function sftp(): Promise<SFTPWrapper> {
    if (!session) {
      const opening = connectSftp(config);
      const forget = () => {
        if (session === opening) session = undefined;
      };
      opening.then(({ client }) => client.on('close', forget), forget);
      session = opening;
    }
    return (await session).sftp;
  }

  /** Status errors to the target vocabulary; `writing`: FAILURE while writing data means no space. */
  function fromSftpError(operation: string, path: string, err: unknown, writing = false) {
    if (err instanceof AppError) return err;
    if (statusOf(err) === NO_SUCH_FILE) return missing(name, path);
    if (statusOf(err) === PERMISSION_DENIED) return permissionDenied(name, path);
    if (statusOf(err) === FAILURE && writing) return full(name, path, 'the server answered FAILURE to a write: disk or quota full');
    return failed(name, operation, path, err);
  }

  const statOrUndefined = (s: SFTPWrapper, path: string) =>
    call<Stats>((cb) => s.stat(path, cb)).catch((err) => {
      if (statusOf(err) === NO_SUCH_FILE) return undefined;
      throw err;
    });

  async function ensureDirectory(s: SFTPWrapper, dir: string): Promise<void> {
    if (dir === '' || dir === '.' || dir === '/') return;
    const existing = await statOrUndefined(s, dir);
    if (existing && isDirectory(existing)) return;
    await ensureDirectory(s, posix.dirname(dir));
    await call((cb) => s.mkdir(dir, cb)).catch(async (err) => {
      const now = await statOrUndefined(s, dir); // created concurrently?
      if (!now || !isDirectory(now)) throw err;
    });
  }

  /** posix-rename@openssh.com replaces atomically; plain SFTP rename refuses to overwrite. */
  async function renameOver(s: SFTPWrapper, from: string, to: string): Promise<void> {
    const posixRename = await new Promise<boolean>((resolve, reject) => {
      try {
        s.ext_openssh_rename(from, to, (err) => (err ? reject(err) : resolve(true)));
      } catch {
        resolve(false); // the server lacks the extension
      }
    });
    if (posixRename) return;
    if (await statOrUndefined(s, to)) await call((cb) => s.unlink(to, cb));
    await call((cb) => s.rename(from, to, cb));
  }

  async function put(relPath: string, data: Readable): Promise<TargetEntry> {
    const path = remote(checkRelPath(name, relPath));
    const s = await sftp();
    const partial = partialPath(path);
    let writing = false;
    try {
      await ensureDirectory(s, posix.dirname(path));
      const handle = await call<Buffer>((cb) => s.open(partial, 'wx', cb));
      writing = true;
      await pipeline(data, sftpFileWriter(s, handle));
      writing = false;
      await renameOver(s, partial, path);
      return entry(relPath, await call<Stats>((cb) => s.stat(path, cb)));
    } catch (err) {
      await call((cb) => s.unlink(partial, cb)).catch(() => undefined);
      throw fromSftpError('put', relPath, err, writing);
    }
  }

  async function get(relPath: string): Promise<Readable> {
    const path = remote(checkRelPath(name, relPath));
    const s = await sftp();
    const handle = await call<Buffer>((cb) => s.open(path, 'r', cb)).catch((err) => {
      throw fromSftpError('get', relPath, err);
    });
    const attrs = await call<Stats>((cb) => s.fstat(handle, cb)).catch(async (err) => {
      await call((cb) => s.close(handle, cb)).catch(() => undefined);
      throw fromSftpError('get', relPath, err);
    });
    // Errors reach the reader as TargetErrors.
    const source = sftpFileReader(s, handle, attrs.size);
    const out = new PassThrough({ highWaterMark: 1 << 20 });
    source.on('error', (err: Error) => out.destroy(fromSftpError('get', relPath, err)));
    out.on('close', () => source.destroy());
    return source.pipe(out);
  }

  async function walk(s: SFTPWrapper, dir: string, into: TargetEntry[]): Promise<void> {
    const found = await call<FileEntry[]>((cb) => s.readdir(remote(dir), cb)).catch((err) => {
      if (statusOf(err) === NO_SUCH_FILE) return [];
      throw err;
    });
    for (const { filename, attrs } of found) {
      if (filename === '.' || filename === '..') continue;
      const rel = dir ? `${dir}/${filename}` : filename;
      if (isDirectory(attrs)) await walk(s, rel, into);
      else if (isFile(attrs)) into.push(entry(rel, attrs));
    }
  }

  async function list(prefix = ''): Promise<TargetEntry[]> {
    const dir = prefixDirectory(name, prefix);
    const s = await sftp();
    const entries: TargetEntry[] = [];
    await walk(s, dir, entries).catch((err) => {
      throw fromSftpError('list', prefix, err);
    });
    return listed(entries, prefix);
  }

  async function remove(relPath: string): Promise<void> {
    const path = remote(checkRelPath(name, relPath));
    const s = await sftp();
    await call((cb) => s.unlink(path, cb)).catch((err) => {
      throw fromSftpError('delete', relPath, err);
    });
  }

  async function stat(relPath: string): Promise<TargetEntry | undefined> {
    const path = remote(checkRelPath(name, relPath));
    const s = await sftp();
    const attrs = await statOrUndefined(s, path).catch((err) => {
      throw fromSftpError('stat', relPath, err);
    });
    return attrs && isFile(attrs) ? entry(relPath, attrs) : undefined;
  }

  /** statvfs@openssh.com of the root, or of the login directory while the root does not exist yet. */
  async function freeBytes(): Promise<number | undefined> {
    const s = await sftp();
    const statvfs = (path: string) =>
      new Promise<number | undefined>((resolve, reject) => {
        try {
          s.ext_openssh_statvfs(path, (err, info) => (err ? reject(err) : resolve(Number(info.f_bavail) * Number(info.f_frsize))));
        } catch {
          resolve(undefined); // the server lacks the extension
        }
      });
    return statvfs(remote('')).catch((err: unknown) => {
      if (statusOf(err) === NO_SUCH_FILE) return statvfs('.');
      throw err;
    }).catch((err) => {
      throw fromSftpError('statvfs', '', err);
    });
  }

  async function close(): Promise<void> {
    const open = session;
    session = undefined;
    const current = await open?.catch(() => undefined);
    if (!current) return;
    await new Promise<void>((resolve) => {
      current.client.once('close', () => resolve());
      current.client.end();
    });
  }

  return { name, put, get, list, delete: remove, stat, freeBytes, close };
}
