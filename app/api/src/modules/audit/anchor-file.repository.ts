// The audit anchor file (PRAXISKERN_DATA_DIR/audit/anchors.json, mode 0600): per chain the newest
// seq and hash the app has seen, and when. It lives outside the database, so deleting the newest
// audit entries there no longer goes unnoticed. Replaced atomically (temp file, fsync, rename).
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export const ANCHOR_FORMAT = 'praxiskern-audit-anchors/1';

const anchorSchema = z.strictObject({
  organizationId: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/).nullable(),
  seq: z.number().int().positive(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  at: z.string(),
});

const fileSchema = z.strictObject({
  format: z.literal(ANCHOR_FORMAT),
  chains: z.record(z.string(), anchorSchema),
});

export type Anchor = z.infer<typeof anchorSchema>;
export type AnchorFile = z.infer<typeof fileSchema>;

export const anchorFilePath = (dataDir: string) => path.join(dataDir, 'audit', 'anchors.json');
/** The key of a chain in the file: its organization id, or "system" for installation events. */
export const chainKey = (organizationId: string | null) => organizationId ?? 'system';
export const emptyAnchorFile = (): AnchorFile => ({ format: ANCHOR_FORMAT, chains: {} });

export class AnchorFileError extends Error {}

/** The anchor file, or undefined when there is none yet. A damaged file is an error, never "no anchors". */
export async function readAnchorFile(file: string): Promise<AnchorFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AnchorFileError(`${file} is not JSON`);
  }
  const r = fileSchema.safeParse(json);
  if (!r.success) throw new AnchorFileError(`${file} is not a ${ANCHOR_FORMAT} file (${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message})`);
  return r.data;
}

export async function writeAnchorFile(file: string, content: AnchorFile): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  try {
    const h = await open(tmp, 'wx', 0o600);
    try {
      await h.writeFile(JSON.stringify(content, null, 1) + '\n');
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** Moves the file aside (after a restore the chain legitimately restarts from the snapshot's state). */
export async function retireAnchorFile(file: string, suffix: string): Promise<string | undefined> {
  const to = `${file.replace(/\.json$/, '')}.retired-${suffix}.json`;
  try {
    await rename(file, to);
    return to;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Restores of older snapshots (PRAXISKERN_DATA_DIR/audit/restores.jsonl): the chain legitimately
 * continues from the restored snapshot, so anchors taken between that snapshot and the restore
 * describe a history that was given up on purpose and are not compared any more.
 */
export interface RestoreRecord {
  snapshotId: string;
  restoredAt: string;
}

export const restoreRecordPath = (dataDir: string) => path.join(dataDir, 'audit', 'restores.jsonl');

export async function recordRestore(dataDir: string, r: RestoreRecord): Promise<void> {
  const file = restoreRecordPath(dataDir);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await appendFile(file, JSON.stringify(r) + '\n', { mode: 0o600 });
  await retireAnchorFile(anchorFilePath(dataDir), r.restoredAt.replace(/[-:.]/g, ''));
}

export async function readRestoreRecords(dataDir: string): Promise<RestoreRecord[]> {
  let text: string;
  try {
    text = await readFile(restoreRecordPath(dataDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as RestoreRecord);
}

/** Whether a snapshot's anchors predate a restore that went back past them. */
export function supersededByRestore(snapshotId: string, completedAt: string, restores: RestoreRecord[]): boolean {
  return restores.some((r) => snapshotId > r.snapshotId && completedAt < r.restoredAt);
}
