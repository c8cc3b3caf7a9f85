// The practice's automatic patient numbering (optional, per organization): when switched on, a new
// patient without a number gets prefix + the next number, zero-padded ("P00042"); numbers already
// taken by hand are skipped. The row is locked while a number is drawn, so two concurrent creations
// never draw the same one (the unique blind-index term is the second wall).
import { z } from 'zod';
import { withScope, type Tx } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import type { Services } from '../../http/services.ts';
import { audit } from '../audit/audit.service.ts';
import { scope } from './patient.service.ts';

export const numberingBody = z.strictObject({
  enabled: z.boolean(),
  prefix: z.string().trim().toUpperCase().regex(/^[A-Z0-9./-]{0,8}$/, 'may contain letters, digits and . / - (at most 8)').default(''),
  nextNumber: z.number().int().min(1).max(999_999_999),
  digits: z.number().int().min(1).max(9).default(5),
});
export type Numbering = z.infer<typeof numberingBody>;
export const numberingView = z.strictObject({ enabled: z.boolean(), prefix: z.string(), nextNumber: z.number().int(), digits: z.number().int() });

const DEFAULT: Numbering = { enabled: false, prefix: '', nextNumber: 1, digits: 5 };
const format = (n: Numbering, k: number) => `${n.prefix}${String(k).padStart(n.digits, '0')}`;

interface Row { enabled: boolean; prefix: string; next_number: string | number; digits: number }
const fromRow = (r: Row | undefined): Numbering => (r ? { enabled: r.enabled, prefix: r.prefix, nextNumber: Number(r.next_number), digits: r.digits } : DEFAULT);

/** Draws the next free number in the caller's transaction, or undefined when numbering is off. */
export async function nextPatientNumber(trx: Tx, isFree: (n: string) => Promise<boolean>): Promise<string | undefined> {
  const row: Row | undefined = await trx('patient_numbering').forUpdate().first();
  const n = fromRow(row);
  if (!n.enabled) return undefined;
  let k = n.nextNumber;
  for (let tries = 0; tries < 1000 && !(await isFree(format(n, k))); tries++) k++;
  await trx('patient_numbering').update({ next_number: k + 1, updated_at: trx.fn.now() });
  return format(n, k);
}

export async function getNumbering(services: Services): Promise<Numbering> {
  const actor = authorize('patients.read');
  return withScope(services.db, scope(actor), async (trx) => fromRow(await trx('patient_numbering').first()));
}

export async function setNumbering(services: Services, body: Numbering): Promise<Numbering> {
  const actor = authorize('patients.numbering');
  return withScope(services.db, scope(actor), async (trx) => {
    await trx('patient_numbering')
      .insert({ organization_id: actor.organizationId, enabled: body.enabled, prefix: body.prefix, next_number: body.nextNumber, digits: body.digits })
      .onConflict('organization_id').merge({ enabled: body.enabled, prefix: body.prefix, next_number: body.nextNumber, digits: body.digits, updated_at: trx.fn.now() });
    await audit(trx, { action: 'patient.numbering.update', objectType: 'organization', objectId: actor.organizationId, details: { ...body } });
    return body;
  });
}
