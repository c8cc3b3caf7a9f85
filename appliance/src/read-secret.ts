import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** Reads a secret from a file (trailing newline removed) or, on a terminal, from a hidden prompt. */
export async function readSecret(file: string | boolean | undefined, prompt: string, flag: string): Promise<string> {
  if (typeof file === 'string') return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  if (!process.stdin.isTTY) throw new Error(`${flag} is required when not running on a terminal`);
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const out = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WritableStream };
  process.stderr.write(prompt);
  out._writeToOutput = () => {};
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stderr.write('\n');
  return answer;
}
