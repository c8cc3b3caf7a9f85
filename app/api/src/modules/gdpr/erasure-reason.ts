// The free-text reason of a retention override (Art. 17 inside the § 630f period) may name
// people, so it never reaches the append-only audit log in plaintext: the audit entry carries
// the reason *category* in clear and the text encrypted under its own data key (scope
// `erasure_reason`, one per erased patient). Destroying that key erases the text for good
// although the hash-chained audit entry stays; the ledger file records the destruction so a
// restore re-applies it.
import type { Tx } from '../../db/connection.ts';
import type { KeyRef, KeyStore } from '../keystore/data-keys.ts';
import { AppError } from '../../core/errors.ts';

export { REASON_CATEGORIES, type ReasonCategory } from './erasure-reason.schema.ts';

export const reasonKey = (organizationId: string, patientId: string): KeyRef => ({ organizationId, scope: 'erasure_reason', scopeId: patientId });
const FIELD = 'override_reason';

/** The text sealed for the audit entry (base64), under a fresh key of its own. */
export async function sealReason(keys: KeyStore, trx: Tx, organizationId: string, patientId: string, text: string): Promise<string> {
  return (await keys.encrypt(trx, reasonKey(organizationId, patientId), FIELD, text)).toString('base64');
}

/** The text, or null once its key has been destroyed. */
export async function openReason(keys: KeyStore, trx: Tx, organizationId: string, patientId: string, sealed: string): Promise<string | null> {
  try {
    return (await keys.decrypt(trx, reasonKey(organizationId, patientId), FIELD, Buffer.from(sealed, 'base64'))).toString('utf8');
  } catch (err) {
    if (err instanceof AppError && err.status === 404) return null;
    throw err;
  }
}
