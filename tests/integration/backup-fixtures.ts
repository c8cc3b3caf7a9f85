// Shared fixtures of the backup tests (not a test file itself): an app with patients and documents,
// the backup runtime pointed at a real SFTP server, logical fingerprints of a database and a blob store.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { generateIdentity } from '../../app/api/src/modules/backup/age/index.ts';
import { registerBackup, type BackupRuntime, type RuntimeOptions } from '../../app/api/src/modules/backup/backup-runtime.service.ts';
import { defaultPgBinDir } from '../../app/api/src/modules/backup/backup-config.service.ts';
import { SIGNER_COMMENT } from '../../app/api/src/modules/backup/manifest-signature.ts';
import type { Services } from '../../app/api/src/http/services.ts';
import type { Client } from '../helpers/http-client.ts';
import type { Sshd } from '../helpers/sshd.ts';
import { jpegWithMetadata, multipart, samplePatient } from './patients-fixtures.ts';

/** The PostgreSQL 17 client tools: PRAXISKERN_PG_BIN_DIR, the app image's path, or the CI chroot wrappers. */
export const PG_BIN_DIR = defaultPgBinDir() ?? (existsSync('/usr/local/lib/praxiskern/pg17/bin/pg_dump') ? '/usr/local/lib/praxiskern/pg17/bin' : undefined);

export function sftpSpec(sshd: Sshd, dir = 'praxiskern', name = 'storagebox'): string {
  return `${name}=sftp://${sshd.username}@${sshd.host}:${sshd.port}/${dir}?hostkey=${encodeURIComponent(sshd.hostKeyFingerprint)}&key=${encodeURIComponent(sshd.clientKey.privateKeyPath)}&timeout=5000`;
}

export const offlineKey = generateIdentity();

export function backupEnv(targets: string[], extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PRAXISKERN_BACKUP_TARGETS: targets.join(','),
    PRAXISKERN_BACKUP_RECIPIENTS: offlineKey.recipient,
    ...(PG_BIN_DIR ? { PRAXISKERN_PG_BIN_DIR: PG_BIN_DIR } : {}),
    ...extra,
  };
}

export function runtimeFor(services: Services, ownerUrl: string, env: NodeJS.ProcessEnv, opts: Partial<RuntimeOptions> = {}): BackupRuntime {
  return registerBackup(services, { ownerUrl, env, ...opts });
}

/** Patients with documents (real blobs, written by the documents module). */
export async function seedPatients(admin: Client, count: number, documentsEach = 1): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await admin.post('/api/v1/patients', samplePatient());
    if (res.status !== 201) throw new Error(`create patient: ${res.status} ${res.text}`);
    const id = res.body.patient.id as string;
    ids.push(id);
    for (let d = 0; d < documentsEach; d++) {
      const { body, contentType } = multipart({ category: 'front' }, { filename: `p${i}-${d}.jpg`, data: jpegWithMetadata(`secret-${i}-${d}`) });
      const up = await admin.request('POST', `/api/v1/patients/${id}/documents`, body, { 'content-type': contentType });
      if (up.status !== 201) throw new Error(`upload: ${up.status} ${up.text}`);
    }
  }
  return ids;
}

/** Per table: row count and a hash of all rows in a fixed order (the "same logical database" check). */
export async function fingerprint(url: string, opts: { exclude?: string[]; auditUpTo?: number } = {}): Promise<Record<string, { rows: number; hash: string }>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows: tables } = await c.query(`select relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and relkind = 'r' order by relname`);
    const out: Record<string, { rows: number; hash: string }> = {};
    for (const { relname } of tables) {
      if (opts.exclude?.includes(relname)) continue;
      const where = relname === 'audit_log' && opts.auditUpTo !== undefined ? `where t.id <= ${Number(opts.auditUpTo)}` : '';
      const { rows } = await c.query(
        `select count(*)::int as n, md5(coalesce(string_agg(x, E'\\n' order by x), '')) as h from (select t::text as x from public.${pg.escapeIdentifier(relname)} t ${where}) s`,
      );
      out[relname] = { rows: rows[0].n, hash: rows[0].h };
    }
    return out;
  } finally {
    await c.end();
  }
}

export async function maxAuditId(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const { rows } = await c.query('select coalesce(max(id), 0)::int as n from audit_log');
  await c.end();
  return rows[0].n;
}

/** name → SHA-256 of every file under a directory. */
export function treeHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  for (const rel of readdirSync(dir, { recursive: true }) as string[]) {
    const full = path.join(dir, rel);
    try {
      out[rel] = createHash('sha256').update(readFileSync(full)).digest('hex');
    } catch {
      /* a directory */
    }
  }
  return out;
}

/** An identity file as the recovery kit shows it: optionally the signing-key comment line, then the identity. */
export function writeIdentityFile(dir: string, identity = offlineKey.identity, signer?: string): string {
  const file = path.join(dir, 'offline.agekey');
  writeFileSync(file, `# recovery identity\n${signer ? `# ${SIGNER_COMMENT} ${signer}\n` : ''}${identity}\n`, { mode: 0o600 });
  return file;
}

export async function metricValue(services: Services, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = services.metrics.registry.getSingleMetric(name);
  if (!metric) return undefined;
  const data = await metric.get();
  const hit = data.values.find((v) => Object.entries(labels).every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val));
  return hit?.value;
}


/**
 * Replaces a string of a custom-format dump's table of contents (written as a sign byte, a 4-byte
 * little-endian length and the bytes; TOC strings are never compressed) by another.
 */
function replaceTocString(dump: Buffer, from: string, to: string): Buffer {
  const at = dump.indexOf(Buffer.from(from));
  if (at < 5 || dump[at - 5] !== 0 || dump.readUInt32LE(at - 4) !== Buffer.byteLength(from)) throw new Error(`"${from}" is not a TOC string of the dump`);
  const head = Buffer.alloc(5);
  head.writeUInt32LE(Buffer.byteLength(to), 1);
  return Buffer.concat([dump.subarray(0, at - 5), head, Buffer.from(to), dump.subarray(at + Buffer.byteLength(from))]);
}

/**
 * What someone who can write to a target makes of a snapshot (the age recipients are public): a
 * valid custom-format dump whose statements commit a schema "pwned" (ending the restore's
 * transaction early) and run `\! touch <marker>` through psql, followed by megabytes of table data
 * so a tool that reads as the bytes arrive executes them long before the end of the file.
 */
export async function maliciousDump(ownerUrl: string, marker: string): Promise<Buffer> {
  const c = new pg.Client({ connectionString: ownerUrl });
  await c.connect();
  try {
    await c.query(`create table public.bulk (x text)`);
    await c.query(`comment on table public.bulk is 'first-placeholder'`);
    await c.query(`comment on column public.bulk.x is 'second-placeholder'`);
    await c.query(`insert into public.bulk select md5(i::text) || md5((i + 1)::text) from generate_series(1, 200000) i`);
  } finally {
    await c.end();
  }
  const pgDump = PG_BIN_DIR ? path.join(PG_BIN_DIR, 'pg_dump') : 'pg_dump';
  const { stdout } = await promisify(execFile)(pgDump, ['--format=custom', '--compress=0', `--dbname=${ownerUrl}`], { encoding: 'buffer', maxBuffer: 1 << 28 });
  const sql = replaceTocString(stdout, `COMMENT ON TABLE public.bulk IS 'first-placeholder';\n`, 'COMMIT;\nCREATE SCHEMA pwned;\nBEGIN;\n');
  return replaceTocString(sql, `COMMENT ON COLUMN public.bulk.x IS 'second-placeholder';\n`, `\\! touch ${marker}\n`);
}
