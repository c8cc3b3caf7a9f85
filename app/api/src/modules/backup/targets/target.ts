// The off-site target contract, and the path rules every implementation shares.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { invalidPath } from './target.errors.ts';

export interface TargetEntry {
  /** Relative to the target root, "/"-separated. */
  path: string;
  size: number;
  modifiedAt: Date;
}

export interface BackupTarget {
  readonly name: string;
  /** Uploads to "<path>.partial-<random>" and renames when complete: a file under `path` is always whole. */
  put(relPath: string, data: Readable): Promise<TargetEntry>;
  /** Throws `target_missing` if there is no such file. */
  get(relPath: string): Promise<Readable>;
  /** Files (recursively) whose path starts with `prefix`, sorted; unfinished uploads are never listed. */
  list(prefix?: string): Promise<TargetEntry[]>;
  /** Throws `target_missing` if there is no such file. */
  delete(relPath: string): Promise<void>;
  /** undefined if there is no such file. */
  stat(relPath: string): Promise<TargetEntry | undefined>;
  /** Free space for this target, where the storage can tell. */
  freeBytes?(): Promise<number | undefined>;
  /** Releases connections; the target reconnects on next use. */
  close(): Promise<void>;
}

export const PARTIAL_MARK = '.partial-';

export const partialPath = (path: string) => `${path}${PARTIAL_MARK}${randomBytes(8).toString('hex')}`;
export const isPartial = (path: string) => posix.basename(path).includes(PARTIAL_MARK);

/** Checks a relative file path ("snapshots/2027-01-01/db.age"); returns it unchanged. */
export function checkRelPath(target: string, path: string): string {
  if (typeof path !== 'string' || path === '') throw invalidPath(target, String(path), 'must not be empty');
  if (path.startsWith('/') || path.endsWith('/')) throw invalidPath(target, path, 'must be relative and name a file');
  if (/[\\\0-\x1f]/.test(path)) throw invalidPath(target, path, 'contains a backslash or control character');
  if (path.split('/').some((s) => s === '' || s === '.' || s === '..')) throw invalidPath(target, path, 'has an empty, "." or ".." segment');
  if (isPartial(path)) throw invalidPath(target, path, `"${PARTIAL_MARK}" is reserved for unfinished uploads`);
  return path;
}

/** A list prefix: '' or a relative path, optionally ending in "/". Returns the directory to walk. */
export function prefixDirectory(target: string, prefix: string): string {
  if (prefix === '') return '';
  checkRelPath(target, prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix.endsWith('/') ? prefix.slice(0, -1) : posix.dirname(prefix) === '.' ? '' : posix.dirname(prefix);
}

export const listed = (entries: TargetEntry[], prefix: string) =>
  entries.filter((e) => e.path.startsWith(prefix) && !isPartial(e.path)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
