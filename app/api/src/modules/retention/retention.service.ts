// Retention scanner: lists records past PRAXISKERN_RETENTION_YEARS (dry run) and anonymizes
// them: content rows, search tokens and blobs removed, the data key destroyed; a stub with ids
// and dates stays for statistics. Everything audited. The cron wiring calls runRetention().
import { withScope } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import { dayIn } from '../../core/context.ts';
import { organizationTimeZone } from '../appointments/appointment.repository.ts';
import type { Services } from '../../http/services.ts';
import { audit } from '../audit/audit.service.ts';
import { patientKey } from '../patients/patient.crypto.ts';
import { scope } from '../patients/patient.service.ts';
import { deleteBlob } from '../documents/blob.repository.ts';
import { documentBlobIds } from '../gdpr/erasure.repository.ts';
import { retentionYears } from './retention.policy.ts';
import { anonymizeRows, retentionCandidates } from './retention.repository.ts';

export interface RetentionOptions {
  dryRun: boolean;
  limit?: number;
  /** For tests and previews: evaluate as of this day (YYYY-MM-DD). */
  today?: string;
}

export async function runRetention(services: Services, opts: RetentionOptions) {
  const actor = authorize('retention.run');
  const years = retentionYears();
  const limit = opts.limit ?? 1000;
  let today = opts.today ?? '';
  const candidates = await withScope(services.db, scope(actor), async (trx) => {
    // The practice's calendar day and zone, not UTC's: the period ends at midnight in the practice.
    const zone = await organizationTimeZone(trx, actor.organizationId);
    today ||= dayIn(zone);
    const list = await retentionCandidates(trx, years, today, limit, zone);
    await audit(trx, { action: opts.dryRun ? 'retention.dry_run' : 'retention.run', objectType: 'retention', details: { years, today, candidates: list.length } });
    return list;
  });
  const items = candidates.map((c) => ({ patientId: c.id, lastTreatmentOn: c.last_treatment_on, basisOn: c.basis_on }));
  if (opts.dryRun) return { dryRun: true, years, today, candidates: items, anonymized: [] as string[] };
  const anonymized: string[] = [];
  for (const c of candidates) {
    // One transaction per patient: a failure leaves the others done and this one untouched.
    const blobs = await withScope(services.db, scope(actor), async (trx) => {
      const ids = await documentBlobIds(trx, c.id);
      if (!(await anonymizeRows(trx, c.id))) return undefined;
      await services.keys.destroy(trx, patientKey(actor.organizationId, c.id));
      await audit(trx, { action: 'patient.anonymize', objectType: 'patient', objectId: c.id, details: { years, basisOn: c.basis_on, documents: ids.length } });
      return ids;
    });
    if (!blobs) continue;
    for (const id of blobs) await deleteBlob(services.config.dataDir, id);
    anonymized.push(c.id);
  }
  return { dryRun: false, years, today, candidates: items, anonymized };
}
