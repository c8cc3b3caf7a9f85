// Audit log: one hook every module calls for reads and writes; denied attempts are written in
// their own transaction so they survive the rollback of the request that was refused. An entry is
// inserted unchained (no lock); the sequencer links it into its chain after commit.
import type { Db, Tx } from '../../db/connection.ts';
import { currentContext, log } from '../../core/context.ts';
import { deferToCommit } from '../../db/request-transaction.ts';
import { auditInsertQuery, insertAudit, type AuditRow } from './audit.repository.ts';

export interface AuditEvent {
  action: string;
  objectType?: string;
  objectId?: string;
  outcome?: 'success' | 'denied' | 'failure';
  details?: Record<string, unknown>;
  /** Overrides for events without an authenticated actor (login, setup). */
  organizationId?: string | null;
  actorUserId?: string | null;
}

function toRow(e: AuditEvent): AuditRow {
  const ctx = currentContext();
  return {
    organization_id: e.organizationId !== undefined ? e.organizationId : (ctx?.actor?.organizationId ?? null),
    actor_user_id: e.actorUserId !== undefined ? e.actorUserId : (ctx?.actor?.userId ?? null),
    action: e.action,
    object_type: e.objectType ?? null,
    object_id: e.objectId ?? null,
    outcome: e.outcome ?? 'success',
    request_id: ctx?.requestId ?? null,
    ip: ctx?.ip ?? null,
    user_agent: ctx?.userAgent?.slice(0, 500) ?? null,
    details: e.details ?? {},
  };
}

/** Called after a transaction that wrote audit entries has committed (the sequencer listens). */
export const auditCommitListeners = new Set<() => void>();

/** Called after this process's sequencer linked entries into their chains (the anchor writer listens). */
export const auditChainedListeners = new Set<() => void>();

function notifyCommitted(): void {
  for (const l of auditCommitListeners) l();
}

/** Records an event inside the caller's transaction (it commits or rolls back with the change). */
export async function audit(trx: Tx, event: AuditEvent): Promise<void> {
  const row = toRow(event);
  // In a request's transaction the entry is written in the round trip of its COMMIT.
  if (!deferToCommit(trx, auditInsertQuery(trx, row))) await insertAudit(trx, row);
  trx.executionPromise?.then(notifyCommitted, () => undefined);
}

/** The read hook: every module that shows patient data calls this with what was read. */
export async function auditRead(trx: Tx, objectType: string, objectId: string, details?: Record<string, unknown>): Promise<void> {
  await audit(trx, { action: `${objectType}.read`, objectType, objectId, details });
}

/** Records an event in a transaction of its own (denied attempts, failed logins, unseal). */
export async function auditStandalone(db: Db, event: AuditEvent): Promise<void> {
  const row = toRow(event);
  try {
    await db.transaction(async (trx) => {
      await trx.raw("select set_config('app.org_id', ?, true)", [row.organization_id ?? '']);
      await insertAudit(trx, row);
    });
    notifyCommitted();
  } catch (err) {
    log().error({ err, action: event.action }, 'audit write failed');
    throw err;
  }
}
