// Whole backup vs `pg_dump -Fc | age -r`, and whole restore vs `age -d | pg_restore`, on the same
// database in the same run, alternating, median of REPETITIONS. Throughput = database size / time.
// Run: node_modules/.bin/node bench/backup-throughput.ts   (BENCH_MIB=256 sets the table data size)
// Needs the PostgreSQL 17 client tools (PRAXISKERN_PG_BIN_DIR or .ci/backup-prereqs.sh) and `age`.
// The target directory is on tmpfs (/dev/shm) when there is one, so the disk does not dominate.
// BENCH_DATA_DIR puts the restores' data directories (and so the staging copy of the dump) on a
// disk of your choice, as on a real server.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { loadConfig } from '../app/api/src/core/config.ts';
import { createDb } from '../app/api/src/db/connection.ts';
import { buildServices, migrate } from '../app/api/src/server.ts';
import { generateIdentity } from '../app/api/src/modules/backup/age/index.ts';
import { registerBackup } from '../app/api/src/modules/backup/backup-runtime.service.ts';
import { connectionArgs, toolPath } from '../app/api/src/modules/backup/pg-dump.repository.ts';
import { restoreSnapshot } from '../app/api/src/modules/backup/restore.service.ts';
import { backupSigningKey } from '../app/api/src/modules/backup/manifest-signature.ts';
import { runBackup } from '../app/api/src/modules/backup/snapshot.service.ts';
import { createTestDatabase, type TestDatabase } from '../tests/helpers/pg.ts';
import { PG_BIN_DIR } from '../tests/integration/backup-fixtures.ts';
import { TEST_KDF } from '../tests/helpers/app.ts';
import { fmt } from './lib.ts';

const run = promisify(execFile);
const MIB = 1 << 20;
const SIZE_MIB = Number(process.env.BENCH_MIB ?? 256);
const REPETITIONS = Number(process.env.BENCH_REPETITIONS ?? 3);
const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const work = mkdtempSync(path.join(base, 'pk-bench-backup-'));
const key = generateIdentity();
const keyFile = path.join(work, 'key.txt');
writeFileSync(keyFile, `${key.identity}\n`, { mode: 0o600 });

async function fill(db: TestDatabase): Promise<number> {
  const c = new pg.Client({ connectionString: db.ownerUrl });
  await c.connect();
  // Half incompressible (like encrypted health data and blobs), half text.
  await c.query('create table bench_payload (id bigserial primary key, sealed bytea not null, note text not null)');
  const rows = (SIZE_MIB * MIB) / 4096;
  await c.query(
    `insert into bench_payload (sealed, note)
       select decode(string_agg(lpad(to_hex((random() * 4294967295)::bigint), 8, '0'), ''), 'hex'),
              repeat(md5(g::text), 64)
         from generate_series(1, $1) g, generate_series(1, 256) k group by g`,
    [rows],
  );
  const { rows: r } = await c.query('select pg_database_size(current_database())::bigint as n');
  await c.end();
  return Number(r[0].n);
}

function services(db: TestDatabase, dataDir: string) {
  const config = loadConfig({ PRAXISKERN_DATA_DIR: dataDir, DATABASE_URL: db.appUrl, DATABASE_OWNER_URL: db.ownerUrl, LOG_LEVEL: 'silent' });
  const knex = createDb(db.appUrl, 4);
  return { services: buildServices(config, knex, TEST_KDF), knex };
}

const env = (target: string) => ({ PRAXISKERN_BACKUP_TARGETS: `bench=local:${target}`, PRAXISKERN_BACKUP_RECIPIENTS: key.recipient, ...(PG_BIN_DIR ? { PRAXISKERN_PG_BIN_DIR: PG_BIN_DIR } : {}) });

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const source = await createTestDatabase();
await migrate(source.ownerUrl);
const bytes = await fill(source);
const dataDir = path.join(work, 'data');
mkdirSync(dataDir);
const src = services(source, dataDir);
const target = path.join(work, 'target');
mkdirSync(target);
const rt = registerBackup(src.services, { ownerUrl: source.ownerUrl, env: env(target) });
const pgDump = toolPath(PG_BIN_DIR, 'pg_dump');
const pgRestore = toolPath(PG_BIN_DIR, 'pg_restore');
const sh = (cmd: string, extraEnv: NodeJS.ProcessEnv) => run('/bin/sh', ['-c', cmd], { env: { ...process.env, ...extraEnv }, maxBuffer: 1 << 20 });

console.log(`database: ${fmt(bytes / MIB, 0)} MiB on disk; target and age files on ${base}; ${REPETITIONS} repetitions, alternating`);
const ours: number[] = [];
const theirs: number[] = [];
let snapshotId = '';
for (let i = 0; i < REPETITIONS; i++) {
  ours.push(
    await timed(async () => {
      const r = await runBackup(rt);
      if (!r.ok) throw new Error(r.error);
      snapshotId = r.snapshotId;
    }),
  );
  const { dbname, env: pgEnv } = connectionArgs(source.ownerUrl);
  const out = path.join(work, 'baseline.dump.age');
  rmSync(out, { force: true });
  theirs.push(await timed(() => sh(`"${pgDump}" -Fc --dbname="$DB" | age -r ${key.recipient} > "${out}"`, { ...pgEnv, DB: dbname })));
}
const backupRatio = median(theirs) / median(ours);
console.log(`backup   Praxiskern (pg_dump + age + manifest + retention): ${fmt(median(ours))} s  ${fmt(bytes / MIB / median(ours), 1)} MiB/s`);
console.log(`backup   pg_dump -Fc | age -r:                              ${fmt(median(theirs))} s  ${fmt(bytes / MIB / median(theirs), 1)} MiB/s`);
console.log(`backup   throughput ratio: ${fmt(backupRatio)}× (aim ≥ 0.90)`);

const oursR: number[] = [];
const theirsR: number[] = [];
for (let i = 0; i < REPETITIONS; i++) {
  const fresh = await createTestDatabase();
  const dstDir = mkdtempSync(path.join(process.env.BENCH_DATA_DIR ?? work, `pk-bench-restore-${i}-`));
  const dst = services(fresh, dstDir);
  const rt2 = registerBackup(dst.services, { ownerUrl: fresh.ownerUrl, env: env(target) });
  // A new server trusts the old one's snapshots through the kit's signing key.
  const signers = [backupSigningKey(src.services.appKey).text];
  oursR.push(await timed(() => restoreSnapshot(rt2, { identities: [key.identity], signers, snapshotId })));
  await dst.knex.destroy();
  await fresh.drop();
  rmSync(dstDir, { recursive: true, force: true });
  const plain = await createTestDatabase();
  const { dbname, env: pgEnv } = connectionArgs(plain.ownerUrl);
  const file = path.join(target, 'snapshots', snapshotId, 'db.dump.age');
  theirsR.push(await timed(() => sh(`age -d -i "${keyFile}" "${file}" | "${pgRestore}" --single-transaction --exit-on-error --dbname="$DB"`, { ...pgEnv, DB: dbname })));
  await plain.drop();
}
const restoreRatio = median(theirsR) / median(oursR);
console.log(`restore  Praxiskern (signature + staging + age + pg_restore|psql + ledger + catalog): ${fmt(median(oursR))} s  ${fmt(bytes / MIB / median(oursR), 1)} MiB/s`);
console.log(`restore  age -d | pg_restore:                                   ${fmt(median(theirsR))} s  ${fmt(bytes / MIB / median(theirsR), 1)} MiB/s`);
console.log(`restore  throughput ratio: ${fmt(restoreRatio)}× (aim ≥ 0.90)`);

await src.knex.destroy();
await source.drop();
rmSync(work, { recursive: true, force: true });
process.exit(0);
