// Encryption throughput: our age implementation vs the age CLI (`age -r`), same data, same run,
// alternating repetitions; the age-encryption npm package on a smaller size for reference.
// Run: node_modules/.bin/node bench/age-encrypt.ts
// Files live on tmpfs (/dev/shm) when there is one, so the figures measure encryption and not the
// disk (which other jobs share); AGE_BENCH_DIR=/some/disk/dir measures on a disk instead.
// Each timed run writes a new output file (rm before, not timed), after an untimed warm-up of both.
// AGE_BENCH_MIB changes the size.
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Encrypter } from 'age-encryption';
import { encryptFile, generateIdentity } from '../app/api/src/modules/backup/age/index.ts';

const run = promisify(execFile);
const MIB = 1 << 20;
const SIZE = Number(process.env.AGE_BENCH_MIB ?? 256) * MIB;
const TYPAGE_SIZE = 32 * MIB;
const REPETITIONS = 3;

async function writeRandomFile(path: string, size: number) {
  const file = await open(path, 'w');
  const block = Buffer.allocUnsafe(16 * MIB);
  for (let written = 0; written < size; written += block.length) {
    await file.write(randomFillSync(block), 0, Math.min(block.length, size - written));
  }
  await file.close();
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

const mbps = (bytes: number, seconds: number) => bytes / 1e6 / seconds;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const base = process.env.AGE_BENCH_DIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
const dir = await mkdtemp(join(base, 'age-bench-'));

/** One encryption with a fresh output file; returns MB/s. */
async function measure(encrypt: (output: string) => Promise<unknown>, output: string): Promise<number> {
  await rm(output, { force: true });
  return mbps(SIZE, await timed(() => encrypt(output)));
}
try {
  const { recipient } = generateIdentity();
  const input = join(dir, 'plain');
  await writeRandomFile(input, SIZE);
  const { stdout: version } = await run('age', ['--version']);
  console.log(`age encryption of ${SIZE / MIB} MiB random data, ${REPETITIONS} alternating repetitions`);
  console.log(`node ${process.version} (OpenSSL ${process.versions.openssl}), age CLI ${version.trim()}, files in ${base}`);
  console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  const encryptOurs = (output: string) => encryptFile(input, output, [recipient]);
  const encryptCli = (output: string) => run('age', ['-r', recipient, '-o', output, input]);
  await measure(encryptOurs, join(dir, 'ours.age'));
  await measure(encryptCli, join(dir, 'cli.age'));
  const ours: number[] = [];
  const cli: number[] = [];
  for (let i = 0; i < REPETITIONS; i++) {
    ours.push(await measure(encryptOurs, join(dir, 'ours.age')));
    cli.push(await measure(encryptCli, join(dir, 'cli.age')));
    console.log(`  run ${i + 1}: ours ${ours[i].toFixed(0)} MB/s, age CLI ${cli[i].toFixed(0)} MB/s`);
  }
  console.log(`ours     ${median(ours).toFixed(0)} MB/s (median)`);
  console.log(`age CLI  ${median(cli).toFixed(0)} MB/s (median)`);
  console.log(`ratio ours/CLI ${(median(ours) / median(cli)).toFixed(2)} (goal >= 1.0)`);

  const data = randomFillSync(Buffer.allocUnsafe(TYPAGE_SIZE));
  const encrypter = new Encrypter();
  encrypter.addRecipient(recipient);
  const typage = mbps(TYPAGE_SIZE, await timed(() => encrypter.encrypt(data)));
  console.log(`age-encryption npm (in memory, ${TYPAGE_SIZE / MIB} MiB) ${typage.toFixed(0)} MB/s, reference only`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
