// The snapshot manifest and the layout of a target (docs/backup-format.md is its prose twin).
//
//   snapshots/<id>/db.dump.age         pg_dump -Fc of the database, age-encrypted
//   snapshots/<id>/config.tar.age      tar of the appliance configuration and secrets, age-encrypted
//   snapshots/<id>/manifest.json.age.sig  Ed25519 signature of manifest.json.age (manifest-signature.ts)
//   snapshots/<id>/manifest.json.age   this manifest, age-encrypted, written LAST
//   blobs/<id[0:2]>/<id>.age           one encrypted blob, shared by every snapshot that holds it
//
// A snapshot counts only once its manifest exists; the manifest names every file with its size and
// the SHA-256 of the encrypted bytes, so a truncated or altered file is found before it is used.
// Every path a restore takes from a manifest is checked here against the layout above.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { z } from 'zod';

export const MANIFEST_FORMAT = 'praxiskern-backup/1';
export const SNAPSHOT_ID = /^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$/;
const sha = z.string().regex(/^[0-9a-f]{64}$/);

export const snapshotDir = (id: string) => `snapshots/${id}`;
export const dbPath = (id: string) => `${snapshotDir(id)}/db.dump.age`;
export const configPath = (id: string) => `${snapshotDir(id)}/config.tar.age`;
export const manifestPath = (id: string) => `${snapshotDir(id)}/manifest.json.age`;
export const signaturePath = (id: string) => `${manifestPath(id)}.sig`;
export const blobPath = (blobId: string) => `blobs/${blobId.slice(0, 2)}/${blobId}.age`;

/**
 * "20270102T023000Z-1f4a2b": sorts by time. The suffix is the millisecond in 3 hex digits (so two
 * runs in one second still sort in order) and 3 random hex digits.
 */
export function newSnapshotId(now = new Date()): string {
  const ms = now.getUTCMilliseconds().toString(16).padStart(3, '0');
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${ms}${randomBytes(2).toString('hex').slice(0, 3)}`;
}

export function snapshotTime(id: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(id);
  if (!m) throw new Error(`not a snapshot id: ${id}`);
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

const fileEntry = z.strictObject({
  path: z.string(),
  role: z.enum(['database', 'config']),
  size: z.number().int().nonnegative(),
  sha256: sha,
  plainBytes: z.number().int().nonnegative(),
});

const blobEntry = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{20,64}$/),
  size: z.number().int().nonnegative(),
  sha256: sha,
});

export const manifestSchema = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  snapshotId: z.string().regex(SNAPSHOT_ID),
  installationId: z.string().nullable(),
  jobId: z.string().nullable(),
  target: z.string(),
  startedAt: z.string(),
  completedAt: z.string(),
  appVersion: z.string(),
  schemaVersion: z.string(),
  postgres: z.strictObject({ serverVersion: z.string(), pgDump: z.string() }),
  recipients: z.array(z.string()),
  signer: z.string(),
  files: z.array(fileEntry),
  blobs: z.array(blobEntry),
  config: z.strictObject({ paths: z.array(z.string()), appKeyPath: z.string().nullable() }),
  tables: z.record(z.string(), z.number().int().nonnegative()),
  auditAnchors: z.array(z.strictObject({ organizationId: z.string().nullable(), seq: z.number().int(), hash: sha })),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestFile = z.infer<typeof fileEntry>;
export type ManifestBlob = z.infer<typeof blobEntry>;

export class ManifestError extends Error {}

export function parseManifest(bytes: Buffer, where: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ManifestError(`${where}: the manifest is not JSON`);
  }
  const r = manifestSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ManifestError(`${where}: the manifest is not a ${MANIFEST_FORMAT} manifest (${i.path.join('.')}: ${i.message})`);
  }
  const problem = pathProblem(r.data);
  if (problem) throw new ManifestError(`${where}: ${problem}`);
  return r.data;
}

/** An absolute, normalised path without "..", "." or control characters (config.paths, appKeyPath). */
const cleanAbsolute = (p: string) => p.startsWith('/') && p.length > 1 && posix.normalize(p) === p && !p.endsWith('/') && !/[\\\0-\x1f]/.test(p) && !p.split('/').includes('..');

/** What is wrong with the paths a manifest names, if anything: restore and drill use only the expected ones. */
export function pathProblem(m: Manifest): string | undefined {
  const expected = { database: dbPath(m.snapshotId), config: configPath(m.snapshotId) };
  for (const f of m.files) {
    if (f.path !== expected[f.role]) return `files: path "${f.path}" is not the ${f.role} file of this snapshot (${expected[f.role]})`;
  }
  for (const role of ['database', 'config'] as const) {
    if (m.files.filter((f) => f.role === role).length !== 1) return `files: the manifest must name exactly one ${role} file`;
  }
  if (new Set(m.blobs.map((b) => b.id)).size !== m.blobs.length) return 'blobs: a blob id appears twice';
  const bad = m.config.paths.find((p) => !cleanAbsolute(p));
  if (bad !== undefined) return `config.paths: "${bad}" is not a clean absolute path`;
  if (m.config.appKeyPath !== null && !m.config.paths.includes(m.config.appKeyPath)) return `config.appKeyPath: "${m.config.appKeyPath}" is not one of config.paths`;
  return undefined;
}

/** Total encrypted bytes of a snapshot: its files and every blob it holds. */
export const manifestBytes = (m: Manifest) => m.files.reduce((n, f) => n + f.size, 0) + m.blobs.reduce((n, b) => n + b.size, 0);

/** Groups a target listing into snapshots: complete ones have a manifest. */
export function snapshotsOnTarget(paths: string[]): { complete: string[]; incomplete: string[] } {
  const seen = new Map<string, boolean>();
  for (const p of paths) {
    const m = /^snapshots\/([^/]+)\/(.+)$/.exec(p);
    if (!m || !SNAPSHOT_ID.test(m[1])) continue;
    seen.set(m[1], (seen.get(m[1]) ?? false) || m[2] === 'manifest.json.age');
  }
  const ids = [...seen.keys()].sort();
  return { complete: ids.filter((id) => seen.get(id)), incomplete: ids.filter((id) => !seen.get(id)) };
}
