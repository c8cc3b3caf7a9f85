// Art. 17 hard delete: rows (cascade), blobs and the patient's data key (crypto-shredding), an
// erasure-ledger entry (ids and time) in the database and in the ledger file. Inside the
// statutory retention period it needs override + a reason category (in the audit log in clear)
// and a free-text reason (in the audit log only encrypted under a key of its own, erasable:
// erasure-reason.ts).
import type { Db } from '../../db/connection.ts';
import { withScope } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import { AppError, notFound, validation } from '../../core/errors.ts';
import { log } from '../../core/context.ts';
import type { Services } from '../../http/services.ts';
import { audit } from '../audit/audit.service.ts';
import { patientKey } from '../patients/patient.crypto.ts';
import { findPatient } from '../patients/patient.repository.ts';
import { scope } from '../patients/patient.service.ts';
import { blobDir, deleteBlob } from '../documents/blob.repository.ts';
import { retentionEndsOn, withinRetention } from '../retention/retention.policy.ts';
import * as repo from './erasure.repository.ts';
import { appendLedgerFile, readLedgerFile } from './ledger-file.ts';
import { clearReplayPending } from './replay-marker.ts';
import { reasonKey, sealReason, type ReasonCategory } from './erasure-reason.ts';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

export interface EraseInput {
  override?: boolean;
  reasonCategory?: ReasonCategory;
  reason?: string;
}

export async function erasePatient(services: Services, patientId: string, input: EraseInput) {
  const actor = authorize('gdpr.erase');
  const result = await withScope(services.db, scope(actor), async (trx) => {
    const row = await findPatient(trx, patientId, true);
    if (!row) throw notFound('Patient');
    const endsOn = retentionEndsOn(row.last_treatment_on);
    const inRetention = withinRetention(row.last_treatment_on);
    if (inRetention && !input.override) {
      throw new AppError(409, 'retention_period', `The record is inside its statutory retention period until ${endsOn}; send override: true with a reason to delete anyway`, { retentionEndsOn: endsOn });
    }
    if (inRetention && !input.reasonCategory) throw validation('body.reasonCategory', 'is required when overriding the retention period');
    if (inRetention && !input.reason) throw validation('body.reason', 'is required when overriding the retention period');
    const overridden = Boolean(inRetention && input.override);
    const blobIds = await repo.documentBlobIds(trx, patientId);
    await repo.deletePatientRows(trx, patientId);
    await services.keys.destroy(trx, patientKey(actor.organizationId, patientId));
    await repo.insertLedger(trx, actor.organizationId, patientId);
    await audit(trx, {
      action: 'patient.erase', objectType: 'patient', objectId: patientId,
      details: {
        override: overridden, retentionEndsOn: endsOn, documents: blobIds.length,
        ...(overridden ? { reasonCategory: input.reasonCategory, reasonSealed: await sealReason(services.keys, trx, actor.organizationId, patientId, input.reason!) } : {}),
      },
    });
    return { blobIds, erasedAt: new Date().toISOString() };
  });
  await appendLedgerFile(services.config.dataDir, { organizationId: actor.organizationId, patientId, erasedAt: result.erasedAt });
  for (const id of result.blobIds) await deleteBlob(services.config.dataDir, id);
  return { erased: true, patientId, erasedAt: result.erasedAt, documentsDeleted: result.blobIds.length };
}

export interface ReplayResult {
  ledgerEntries: number;
  patientsErasedAgain: string[];
  blobsDeleted: number;
}

/**
 * Called after any restore with the owner connection: re-erases every patient in the ledger
 * (database table ∪ ledger file), re-destroys their keys, deletes their blobs and blobs that no
 * row references any more (older than graceMs, so uploads in flight are safe). Only a replay that
 * completed removes a restore's "replay pending" marker (replay-marker.ts).
 */
export async function replayErasureLedger(owner: Db, opts: { dataDir: string; graceMs?: number }): Promise<ReplayResult> {
  const entries = new Map<string, { organizationId: string; patientId: string; erasedAt?: string; reasonErasedAt?: string }>();
  for (const e of await readLedgerFile(opts.dataDir)) entries.set(e.patientId, { ...entries.get(e.patientId), ...e });
  for (const r of await repo.allLedgerEntries(owner)) {
    entries.set(r.patient_id, { ...entries.get(r.patient_id), organizationId: r.organization_id, patientId: r.patient_id, erasedAt: r.erased_at.toISOString() });
  }
  const again: string[] = [];
  let blobsDeleted = 0;
  for (const e of entries.values()) {
    const blobs = await owner.transaction(async (trx) => {
      const ids = await repo.documentBlobIds(trx, e.patientId);
      if (await repo.deletePatientRows(trx, e.patientId)) again.push(e.patientId);
      await repo.destroyPatientKey(trx, e.organizationId, e.patientId);
      if (e.reasonErasedAt) await repo.destroyKey(trx, reasonKey(e.organizationId, e.patientId));
      await repo.insertLedger(trx, e.organizationId, e.patientId, e.erasedAt);
      return ids;
    });
    for (const id of blobs) await deleteBlob(opts.dataDir, id);
    blobsDeleted += blobs.length;
  }
  blobsDeleted += await sweepOrphanBlobs(owner, opts.dataDir, opts.graceMs ?? 3_600_000);
  if (again.length) log().warn({ count: again.length }, 'erasure ledger replay removed patients that a restore brought back');
  await clearReplayPending(opts.dataDir);
  return { ledgerEntries: entries.size, patientsErasedAgain: again, blobsDeleted };
}

async function sweepOrphanBlobs(owner: Db, dataDir: string, graceMs: number): Promise<number> {
  const referenced = await repo.referencedBlobIds(owner);
  let n = 0;
  for (const shard of await readdir(blobDir(dataDir)).catch(() => [] as string[])) {
    for (const name of await readdir(path.join(blobDir(dataDir), shard)).catch(() => [] as string[])) {
      if (referenced.has(name) || name.includes('.tmp-')) continue;
      const st = await stat(path.join(blobDir(dataDir), shard, name));
      if (Date.now() - st.mtimeMs < graceMs) continue;
      await deleteBlob(dataDir, name);
      n++;
    }
  }
  return n;
}
