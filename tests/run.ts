// npm test: one PostgreSQL cluster for the whole run, then ava; prints "N passed, N failed".
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../app/api/src/db/embedded.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'pk-test-pg-'));
const port = 55000 + Math.floor(Math.random() * 900);
const cluster = await startEmbeddedPostgres(dir, port, 'praxiskern_scratch');
const args = process.argv.slice(2);
const child = spawn(process.execPath, [path.resolve('node_modules/ava/entrypoints/cli.mjs'), '--tap', ...args], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, PRAXISKERN_TEST_PG_URL: cluster.superuserUrl },
});
let passed = 0;
let failed = 0;
let buffer = '';
child.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk);
  buffer += chunk.toString();
  let nl: number;
  while ((nl = buffer.indexOf('\n')) >= 0) {
    const line = buffer.slice(0, nl);
    buffer = buffer.slice(nl + 1);
    if (/^ok \d+/.test(line)) passed++;
    else if (/^not ok \d+/.test(line)) failed++;
  }
});
const code: number = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
await cluster.stop();
rmSync(dir, { recursive: true, force: true });
if (code !== 0 && failed === 0) failed = 1;
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(code === 0 && failed === 0 ? 0 : 1);
