// The update history: the host updater records every update and rollback through the worker
// (`praxiskern update-record`, owner role); installation operators read it with the running
// version (GET /api/v1/installation/updates). Each run is written once per id: the first record
// adds `installation.update.started` to the installation audit chain, the record that sets
// finishedAt adds `installation.update.finished` with the outcome; the same record sent again
// changes nothing and adds no entry.
import type { Db, Tx } from '../../db/connection.ts';
import type { Services } from '../../http/services.ts';
import { withScope } from '../../db/connection.ts';
import { audit } from '../audit/audit.service.ts';
import { insertUpdateIfNew, listUpdates, lockUpdate, updateUpdate, type UpdateRow } from './update-history.repository.ts';
import { UpdateRecordInvalid, type UpdateRecord } from './update-record.ts';

export interface RecordResult {
  id: string;
  created: boolean;
  changed: boolean;
  audited: string[];
}

/** jsonb keeps its own key order: compare phase maps independent of it. */
const samePhases = (a: Record<string, number>, b: Record<string, number>) => {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a[k] === b[k]);
};

const sameTime = (a: Date | null, b: string | null) => (a === null || b === null ? a === b : a.getTime() === Date.parse(b));

/** What identifies one run: a record for the same id that differs here is another run, refused. */
function assertSameRun(row: UpdateRow, r: UpdateRecord): void {
  const fixed: [string, unknown, unknown][] = [
    ['kind', row.kind, r.kind], ['fromVersion', row.from_version, r.fromVersion], ['toVersion', row.to_version, r.toVersion],
  ];
  for (const [field, stored, given] of fixed) {
    if (stored !== given) throw new UpdateRecordInvalid(field, `the update ${r.id} was recorded with "${stored}", not "${given}"`);
  }
  if (!sameTime(row.started_at, r.startedAt)) throw new UpdateRecordInvalid('startedAt', `the update ${r.id} was recorded as started at ${row.started_at.toISOString()}`);
}

function unchanged(row: UpdateRow, r: UpdateRecord): boolean {
  return sameTime(row.finished_at, r.finishedAt) && row.outcome === r.outcome && row.performed_by === r.by &&
    row.duration_seconds === r.durationSeconds && row.detail === r.detail && row.forced === r.forced &&
    row.force_reason === r.forceReason && row.snapshot_restored === r.snapshotRestored &&
    samePhases(row.phases, r.phases);
}

const startedDetails = (r: UpdateRecord) => ({
  kind: r.kind, fromVersion: r.fromVersion, toVersion: r.toVersion, by: r.by, forced: r.forced, ...(r.forced ? { forceReason: r.forceReason } : {}),
});
const finishedDetails = (r: UpdateRecord) => ({
  kind: r.kind, fromVersion: r.fromVersion, toVersion: r.toVersion, by: r.by, outcome: r.outcome, durationSeconds: r.durationSeconds,
  snapshotRestored: r.snapshotRestored, forced: r.forced, ...(r.detail ? { detail: r.detail } : {}),
});

async function auditUpdate(trx: Tx, action: 'started' | 'finished', r: UpdateRecord): Promise<string> {
  const name = `installation.update.${action}`;
  const failed = action === 'finished' && r.outcome !== 'succeeded';
  await audit(trx, {
    action: name, objectType: 'update', objectId: r.id, organizationId: null, actorUserId: null,
    outcome: failed ? 'failure' : 'success', details: action === 'started' ? startedDetails(r) : finishedDetails(r),
  });
  return name;
}

/** Upserts one run by id (owner role), with its installation audit entries, in one transaction. */
export async function recordUpdate(owner: Db, r: UpdateRecord): Promise<RecordResult> {
  return owner.transaction(async (trx) => {
    const audited: string[] = [];
    if (await insertUpdateIfNew(trx, r)) {
      audited.push(await auditUpdate(trx, 'started', r));
      if (r.finishedAt) audited.push(await auditUpdate(trx, 'finished', r));
      return { id: r.id, created: true, changed: true, audited };
    }
    const row = await lockUpdate(trx, r.id);
    assertSameRun(row, r);
    if (unchanged(row, r)) return { id: r.id, created: false, changed: false, audited };
    await updateUpdate(trx, r);
    if (r.finishedAt && (row.finished_at === null || row.outcome !== r.outcome)) audited.push(await auditUpdate(trx, 'finished', r));
    return { id: r.id, created: false, changed: true, audited };
  });
}

const toPublic = (u: UpdateRow) => ({
  id: u.id, kind: u.kind, fromVersion: u.from_version, toVersion: u.to_version, startedAt: u.started_at.toISOString(),
  finishedAt: u.finished_at ? u.finished_at.toISOString() : null, outcome: u.outcome, by: u.performed_by,
  durationSeconds: u.duration_seconds, detail: u.detail, forced: u.forced, forceReason: u.force_reason,
  snapshotRestored: u.snapshot_restored, phases: u.phases,
});
export type PublicUpdate = ReturnType<typeof toPublic>;

/** The running version and the newest runs first (installation scope; the route checked installation.updates). */
export async function readUpdateHistory(services: Services, by: { userId: string | null }, limit = 100): Promise<{ runningVersion: string; history: PublicUpdate[] }> {
  const rows = await withScope(services.db, { organizationId: null, userId: by.userId, installation: true, readOnly: true }, (trx) => listUpdates(trx, limit));
  return { runningVersion: services.version, history: rows.map(toPublic) };
}
