// Encryption throughput: our age implementation vs the age CLI (`age -r`), same data, same run,
// alternating repetitions; the age-encryption npm package on a smaller size for reference.
// Run: node_modules/.bin/node bench/age-encrypt.ts
// Files live on tmpfs (/dev/shm) when there is one, so the figures measure encryption and not the
// disk (which other jobs share); AGE_BENCH_DIR=/some/disk/dir measures on a disk instead.
// Each timed run writes a new output file (rm before, not timed), after an untimed warm-up of both.
// Also printed: CPU seconds of each run, which depend much less on what else the machine runs.
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
// CPU seconds next to wall-clock throughput: on a shared machine the wall clock swings with other
// jobs' load, CPU time much less. The CLI's comes from GNU time (Debian package `time`) if present.
const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

interface Run {
  mbps: number;
  cpu: number | undefined;
}

/** One encryption with a fresh output file (removed before, not timed). */
async function measure(encrypt: (output: string) => Promise<number | undefined>, output: string): Promise<Run> {
  await rm(output, { force: true });
  let cpu: number | undefined;
  const seconds = await timed(async () => (cpu = await encrypt(output)));
  return { mbps: mbps(SIZE, seconds), cpu };
}

async function encryptWithCli(input: string, output: string, recipient: string): Promise<number | undefined> {
  const args = ['-r', recipient, '-o', output, input];
  if (!GNU_TIME) return void (await run('age', args));
  const { stderr } = await run(GNU_TIME, ['-f', '%U %S', 'age', ...args]);
  const [user, system] = stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return user + system;
}

async function encryptWithOurs(input: string, output: string, recipient: string): Promise<number> {
  const before = process.cpuUsage();
  await encryptFile(input, output, [recipient]);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
}

const cpuText = (cpu: number | undefined) => (cpu === undefined ? '' : `, cpu ${cpu.toFixed(2)} s`);

try {
  const { recipient } = generateIdentity();
  const input = join(dir, 'plain');
  await writeRandomFile(input, SIZE);
  const { stdout: version } = await run('age', ['--version']);
  console.log(`age encryption of ${SIZE / MIB} MiB random data, ${REPETITIONS} alternating repetitions`);
  console.log(`node ${process.version} (OpenSSL ${process.versions.openssl}), age CLI ${version.trim()}, files in ${base}`);
  console.log(`load average before: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  const encryptOurs = (output: string) => encryptWithOurs(input, output, recipient);
  const encryptCli = (output: string) => encryptWithCli(input, output, recipient);
  await measure(encryptOurs, join(dir, 'ours.age')); // warm-up: JIT, page cache
  await measure(encryptCli, join(dir, 'cli.age'));
  const ours: Run[] = [];
  const cli: Run[] = [];
  for (let i = 0; i < REPETITIONS; i++) {
    ours.push(await measure(encryptOurs, join(dir, 'ours.age')));
    cli.push(await measure(encryptCli, join(dir, 'cli.age')));
    console.log(`  run ${i + 1}: ours ${ours[i].mbps.toFixed(0)} MB/s${cpuText(ours[i].cpu)} | age CLI ${cli[i].mbps.toFixed(0)} MB/s${cpuText(cli[i].cpu)}`);
  }
  const oursMbps = median(ours.map((r) => r.mbps));
  const cliMbps = median(cli.map((r) => r.mbps));
  console.log(`ours     ${oursMbps.toFixed(0)} MB/s (median)`);
  console.log(`age CLI  ${cliMbps.toFixed(0)} MB/s (median)`);
  console.log(`ratio ours/CLI ${(oursMbps / cliMbps).toFixed(2)} (goal >= 1.0)`);
  if (GNU_TIME) {
    const oursCpu = median(ours.map((r) => r.cpu!));
    const cliCpu = median(cli.map((r) => r.cpu!));
    console.log(`CPU seconds per run (median): ours ${oursCpu.toFixed(2)}, age CLI ${cliCpu.toFixed(2)}, ratio CLI/ours ${(cliCpu / oursCpu).toFixed(2)}`);
  }
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  const data = randomFillSync(Buffer.allocUnsafe(TYPAGE_SIZE));
  const encrypter = new Encrypter();
  encrypter.addRecipient(recipient);
  const typage = mbps(TYPAGE_SIZE, await timed(() => encrypter.encrypt(data)));
  console.log(`age-encryption npm (in memory, ${TYPAGE_SIZE / MIB} MiB) ${typage.toFixed(0)} MB/s, reference only`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
