import type { Tx } from '../../db/connection.ts';

export interface Candidate {
  id: string;
  last_treatment_on: string | null;
  basis_on: string;
}

/**
 * Patients whose retention period ended: last treatment (or, never treated, the day of the last
 * change in the practice's zone `zone`) + years, on or before `today`.
 */
export async function retentionCandidates(trx: Tx, years: number, today: string, limit: number, zone: string): Promise<Candidate[]> {
  return trx('patients')
    .whereNull('anonymized_at')
    .whereRaw(`coalesce(last_treatment_on, (updated_at at time zone ?)::date) + make_interval(years => ?) <= ?::date`, [zone, years, today])
    .select('id', trx.raw(`to_char(last_treatment_on, 'YYYY-MM-DD') as last_treatment_on`), trx.raw(`to_char(coalesce(last_treatment_on, (updated_at at time zone ?)::date), 'YYYY-MM-DD') as basis_on`, [zone]))
    .orderBy('id')
    .limit(limit);
}

export async function anonymizeRows(trx: Tx, patientId: string): Promise<boolean> {
  const { rows } = await trx.raw('select anonymize_patient(?) as done', [patientId]);
  return Boolean(rows[0]?.done);
}
