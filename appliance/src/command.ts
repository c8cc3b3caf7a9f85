import type { ParseArgsConfig } from 'node:util';

export type Values = Record<string, string | boolean | undefined>;

export interface Command {
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: Values, positionals: string[]): Promise<number>;
}

export function output(values: Values, data: Record<string, unknown>, human: string): void {
  process.stdout.write(values.json ? JSON.stringify({ ok: true, ...data }) + '\n' : human + '\n');
}

export function fail(message: string): never {
  throw new Error(message);
}

/** Bad input or a command given in the wrong place: one line, exit 64 (EX_USAGE). */
export class UsageError extends Error {
  readonly exitCode = 64;
}

export function usageError(message: string): never {
  throw new UsageError(message);
}

/** The exit code a thrown error asks for (64 for bad input), else 1. */
export function exitCodeOf(err: unknown): number {
  const code = (err as { exitCode?: unknown } | null)?.exitCode;
  return typeof code === 'number' && Number.isInteger(code) && code > 0 && code < 256 ? code : 1;
}
