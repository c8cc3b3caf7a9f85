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
