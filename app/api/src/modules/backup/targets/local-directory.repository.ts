// A backup target on a local (or mounted) directory. The directory itself must exist: if a backup
// disk is not mounted, writing into the empty mount point would fill the system disk instead.
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkRelPath, listed, partialPath, prefixDirectory, type BackupTarget, type TargetEntry } from './target.ts';
import { failed, full, missing, permissionDenied, unreachable } from './target.errors.ts';

export interface LocalDirectoryTargetConfig {
  name: string;
  /** Absolute path of an existing directory. */
  path: string;
}

/** Maps a Node fs error to the target vocabulary. */
export function fromFsError(target: string, operation: string, path: string, err: unknown) {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return full(target, path, 'disk or quota full');
  if (code === 'EFBIG') return full(target, path, 'file too large for the target');
  if (code === 'ENOENT') return missing(target, path);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return permissionDenied(target, path);
  return failed(target, operation, path, err);
}

async function fsyncDirectory(dir: string) {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function createLocalDirectoryTarget(config: LocalDirectoryTargetConfig): BackupTarget {
  const { name, path: root } = config;
  const abs = (rel: string) => join(root, ...rel.split('/'));
  const entry = (rel: string, s: { size: number; mtime: Date }): TargetEntry => ({ path: rel, size: s.size, modifiedAt: s.mtime });

  async function requireRoot() {
    const s = await stat(root).catch(() => undefined);
    if (!s?.isDirectory()) throw unreachable(name, root, new Error('directory does not exist (not mounted?)'));
  }

  async function put(relPath: string, data: Readable): Promise<TargetEntry> {
    const file = abs(checkRelPath(name, relPath));
    await requireRoot();
    const partial = partialPath(file);
    try {
      await mkdir(dirname(file), { recursive: true });
      await pipeline(data, createWriteStream(partial, { flags: 'wx', flush: true }));
      await rename(partial, file);
      await fsyncDirectory(dirname(file));
      return entry(relPath, await stat(file));
    } catch (err) {
      await rm(partial, { force: true }).catch(() => undefined);
      throw fromFsError(name, 'put', relPath, err);
    }
  }

  async function get(relPath: string): Promise<Readable> {
    const file = abs(checkRelPath(name, relPath));
    try {
      const handle = await open(file, 'r');
      return handle.createReadStream();
    } catch (err) {
      throw fromFsError(name, 'get', relPath, err);
    }
  }

  async function list(prefix = ''): Promise<TargetEntry[]> {
    const dir = prefixDirectory(name, prefix);
    await requireRoot();
    let names: string[];
    try {
      names = await readdir(abs(dir || '.'), { recursive: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
      throw fromFsError(name, 'list', prefix, err);
    }
    const entries: TargetEntry[] = [];
    for (const found of names) {
      const rel = dir ? `${dir}/${found.split('\\').join('/')}` : found;
      const s = await stat(abs(rel)).catch(() => undefined); // may vanish while listing
      if (s?.isFile()) entries.push(entry(rel, s));
    }
    return listed(entries, prefix);
  }

  async function remove(relPath: string): Promise<void> {
    try {
      await rm(abs(checkRelPath(name, relPath)));
    } catch (err) {
      throw fromFsError(name, 'delete', relPath, err);
    }
  }

  async function statFile(relPath: string): Promise<TargetEntry | undefined> {
    const s = await stat(abs(checkRelPath(name, relPath))).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
      throw fromFsError(name, 'stat', relPath, err);
    });
    return s?.isFile() ? entry(relPath, s) : undefined;
  }

  async function freeBytes(): Promise<number> {
    await requireRoot();
    const s = await statfs(root);
    return s.bavail * s.bsize;
  }

  return { name, put, get, list, delete: remove, stat: statFile, freeBytes, close: async () => undefined };
}
