// The PostgreSQL client tools (pg_dump, pg_restore) as child processes, and the system `tar`.
// Data flows through stdin/stdout only: nothing unencrypted is written to disk on the way.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { AppError } from '../../core/errors.ts';

export class ToolError extends AppError {
  constructor(tool: string, message: string) {
    super(500, 'backup_tool_failed', `${tool}: ${message}`);
  }
}

export function toolPath(binDir: string | undefined, tool: string): string {
  if (!binDir) return tool;
  const full = path.join(binDir, tool);
  if (!existsSync(full)) throw new ToolError(tool, `not found in PRAXISKERN_PG_BIN_DIR=${binDir}`);
  return full;
}

/** Connection arguments without the password (which goes into PGPASSWORD, not the process list). */
export function connectionArgs(url: string): { dbname: string; env: NodeJS.ProcessEnv } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { dbname: u.toString(), env: { PGPASSWORD: password, PGAPPNAME: 'praxiskern-backup', PGCONNECT_TIMEOUT: '10' } };
}

export interface RunningTool {
  child: ChildProcess;
  /** Resolves when the tool exits 0; rejects with its last stderr line otherwise. */
  done: Promise<void>;
}

function start(command: string, args: string[], env: NodeJS.ProcessEnv, stdio: ['pipe' | 'ignore', 'pipe' | 'ignore', 'pipe']): RunningTool {
  const name = path.basename(command);
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(new ToolError(name, err.code === 'ENOENT' ? `not installed (set PRAXISKERN_PG_BIN_DIR)` : err.message)),
    );
    child.once('close', (code, signal) => {
      if (code === 0) return resolve();
      const last = stderr.trim().split('\n').filter(Boolean).pop() ?? '';
      reject(new ToolError(name, `${signal ? `killed by ${signal}` : `exited with ${code}`}${last ? `: ${last.replace(/^\S+: /, '')}` : ''}`));
    });
  });
  done.catch(() => undefined);
  return { child, done };
}

/** `pg_dump -Fc` of the database at an exported snapshot, to stdout. */
export function startPgDump(binDir: string | undefined, ownerUrl: string, snapshot?: string): RunningTool & { stdout: Readable } {
  const { dbname, env } = connectionArgs(ownerUrl);
  const args = ['--format=custom', '--no-password', `--dbname=${dbname}`];
  if (snapshot) args.push(`--snapshot=${snapshot}`);
  const tool = start(toolPath(binDir, 'pg_dump'), args, env, ['ignore', 'pipe', 'pipe']);
  return { ...tool, stdout: tool.child.stdout! };
}

/** `pg_restore` of a custom-format dump from stdin into an empty database, in one transaction. */
export function startPgRestore(binDir: string | undefined, ownerUrl: string): RunningTool & { stdin: Writable } {
  const { dbname, env } = connectionArgs(ownerUrl);
  const args = ['--no-password', '--exit-on-error', '--single-transaction', `--dbname=${dbname}`];
  const tool = start(toolPath(binDir, 'pg_restore'), args, env, ['pipe', 'ignore', 'pipe']);
  return { ...tool, stdin: tool.child.stdin! };
}

/** `pg_restore` of a custom-format dump from stdin into an SQL script on stdout (no database connection). */
export function startPgRestoreScript(binDir: string | undefined): RunningTool & { stdin: Writable; stdout: Readable } {
  const tool = start(toolPath(binDir, 'pg_restore'), ['--file=-'], {}, ['pipe', 'pipe', 'pipe']);
  return { ...tool, stdin: tool.child.stdin!, stdout: tool.child.stdout! };
}

/**
 * `psql` running the script on stdin in one transaction, stopping at the first error: it commits
 * only when stdin ends, so a caller that kills it before then leaves the database as it was.
 */
export function startPsqlTransaction(binDir: string | undefined, url: string): RunningTool & { stdin: Writable } {
  const { dbname, env } = connectionArgs(url);
  const args = ['--no-password', '--no-psqlrc', '--quiet', '--single-transaction', '--set=ON_ERROR_STOP=1', '--file=-', `--dbname=${dbname}`];
  const tool = start(toolPath(binDir, 'psql'), args, env, ['pipe', 'ignore', 'pipe']);
  return { ...tool, stdin: tool.child.stdin! };
}

export async function pgToolVersion(binDir: string | undefined, tool = 'pg_dump'): Promise<string> {
  const t = start(toolPath(binDir, tool), ['--version'], {}, ['ignore', 'pipe', 'pipe']);
  let out = '';
  t.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await t.done;
  return out.trim();
}

/** `tar -c` of absolute paths (stored without the leading "/"); missing paths are skipped by the caller. */
export function startTarCreate(paths: string[]): RunningTool & { stdout: Readable } {
  const rel = paths.map((p) => path.resolve(p).replace(/^\/+/, ''));
  const tool = start('tar', ['--create', '--file=-', '--directory=/', '--numeric-owner', '--', ...rel], {}, ['ignore', 'pipe', 'pipe']);
  return { ...tool, stdout: tool.child.stdout! };
}

/** `tar -x` from stdin into a directory. */
export function startTarExtract(dir: string): RunningTool & { stdin: Writable } {
  const tool = start('tar', ['--extract', '--file=-', `--directory=${dir}`, '--no-same-owner', '--no-overwrite-dir'], {}, ['pipe', 'ignore', 'pipe']);
  return { ...tool, stdin: tool.child.stdin! };
}

/** `tar -t` from stdin: proves the archive reads to the end; resolves with the member names. */
export function startTarList(): RunningTool & { stdin: Writable; names: Promise<string[]> } {
  const tool = start('tar', ['--list', '--file=-'], {}, ['pipe', 'pipe', 'pipe']);
  let out = '';
  tool.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const names = tool.done.then(() => out.split('\n').filter(Boolean));
  names.catch(() => undefined);
  return { ...tool, stdin: tool.child.stdin!, names };
}
