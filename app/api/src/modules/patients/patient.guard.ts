// Loads a patient for the other record modules: 404 across tenants (RLS hides the row), 410 once
// anonymized, and 423 for any write while processing is restricted (Art. 18 DSGVO).
import type { Tx } from '../../db/connection.ts';
import { AppError, notFound } from '../../core/errors.ts';
import { findPatient, type PatientRow } from './patient.repository.ts';

export const restricted = () =>
  new AppError(423, 'restricted', 'This patient record is restricted (Art. 18 DSGVO): it is read-only until the restriction is lifted');
export const anonymized = () => new AppError(410, 'anonymized', 'This patient record was anonymized after its retention period');

export async function requirePatient(trx: Tx, id: string, forUpdate = false): Promise<PatientRow & { data: Buffer }> {
  const row = await findPatient(trx, id, forUpdate);
  if (!row) throw notFound('Patient');
  if (row.anonymized_at || !row.data) throw anonymized();
  return row as PatientRow & { data: Buffer };
}

/** For writes: locks the row so a restriction set concurrently cannot be slipped past. */
export async function requireWritable(trx: Tx, id: string): Promise<PatientRow & { data: Buffer }> {
  const row = await requirePatient(trx, id, true);
  if (row.restricted_at) throw restricted();
  return row;
}
