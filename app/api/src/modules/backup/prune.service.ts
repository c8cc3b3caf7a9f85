// Retention on one target after a successful run: the planner (retention.ts) decides which
// snapshots stay; the rest are deleted, then every blob that no retained snapshot holds.
// Blob pruning needs to know what each retained snapshot holds; if the catalog lacks one of them
// (e.g. after a restore from an older backup) and its manifest cannot be read, blobs are kept.
import { log } from '../../core/context.ts';
import type { BackupRuntime } from './backup-runtime.service.ts';
import * as repo from './backup.repository.ts';
import { blobPath, snapshotDir, snapshotsOnTarget, snapshotTime } from './manifest.ts';
import { planRetention } from './retention.ts';
import type { BackupTarget } from './targets/index.ts';

export interface PruneReport {
  kept: string[];
  snapshotsPruned: string[];
  blobsPruned: number;
  blobPruneSkipped?: string;
  error?: string;
}

async function deleteQuietly(target: BackupTarget, relPath: string): Promise<void> {
  await target.delete(relPath).catch((err: { code?: string }) => {
    if (err?.code !== 'target_missing') throw err;
  });
}

export async function applyRetention(rt: BackupRuntime, target: BackupTarget): Promise<PruneReport> {
  const db = rt.services.db;
  const listing = await target.list('snapshots/');
  const { complete, incomplete } = snapshotsOnTarget(listing.map((e) => e.path));
  const plan = planRetention(
    [...complete.map((id) => ({ id, takenAt: snapshotTime(id), complete: true })), ...incomplete.map((id) => ({ id, takenAt: snapshotTime(id), complete: false }))],
    rt.settings.retention,
  );
  const report: PruneReport = { kept: plan.keep.map((k) => k.id), snapshotsPruned: [], blobsPruned: 0 };
  for (const p of plan.prune) {
    // Manifest first: once it is gone the snapshot no longer counts, whatever happens next.
    const files = listing.filter((e) => e.path.startsWith(`${snapshotDir(p.id)}/`)).map((e) => e.path);
    files.sort((a, b) => (a.endsWith('manifest.json.age') ? -1 : b.endsWith('manifest.json.age') ? 1 : 0));
    for (const f of files) await deleteQuietly(target, f);
    await repo.deleteSnapshotRow(db, target.name, p.id);
    report.snapshotsPruned.push(p.id);
  }

  const known = new Set((await repo.listSnapshots(db, target.name)).map((s) => s.snapshot_id));
  const unknown = report.kept.filter((id) => !known.has(id));
  if (unknown.length) {
    report.blobPruneSkipped = `the catalog does not know snapshot(s) ${unknown.join(', ')}; blobs are kept until it does (praxiskern restore re-indexes)`;
    log().warn({ target: target.name, unknown }, 'blob pruning skipped');
    return report;
  }
  const unreferenced = new Set(await repo.unreferencedBlobs(db, target.name, report.kept));
  const catalog = await repo.targetBlobs(db, target.name);
  // Blobs on the target the catalog has never heard of: uploads of a run that was cut off.
  for (const e of await target.list('blobs/')) {
    const id = /^blobs\/[^/]+\/([A-Za-z0-9_-]{20,64})\.age$/.exec(e.path)?.[1];
    if (id && !catalog.has(id)) unreferenced.add(id);
  }
  for (const id of unreferenced) {
    await deleteQuietly(target, blobPath(id));
    report.blobsPruned++;
  }
  await repo.forgetBlobs(db, target.name, [...unreferenced]);
  return report;
}
