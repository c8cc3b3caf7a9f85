// Secrets created at first start: when the API and the worker start together on a fresh data
// directory, both must end up with the same secret and neither may fail.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MODULE = path.resolve('app/api/src/core/secret-files.ts');

test('processes creating the same secret at the same moment all get one value, and the file is 0600', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pk-secret-'));
  try {
    const file = path.join(dir, 'secrets', 'app.key');
    // Every process loads the module first, then all call it at the same agreed moment.
    const startAt = Date.now() + 2000;
    const script = `const { readOrCreateSecret } = await import(${JSON.stringify(MODULE)});
      while (Date.now() < ${startAt}) await new Promise((r) => setTimeout(r, 1));
      process.stdout.write(readOrCreateSecret(${JSON.stringify(file)}));`;
    const outputs = await Promise.all(Array.from({ length: 12 }, () => run(process.execPath, ['--input-type=module', '-e', script])));
    const values = new Set(outputs.map((o) => o.stdout));
    t.is(values.size, 1, 'every process read the same secret');
    t.regex([...values][0], /^[A-Za-z0-9_-]{43}$/);
    t.is(statSync(file).mode & 0o777, 0o600);
    t.deepEqual(readdirSync(path.dirname(file)), ['app.key'], 'no temporary file is left behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
