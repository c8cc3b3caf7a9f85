import type { Db, Tx } from '../../db/connection.ts';

export interface EnrollmentRow {
  user_id: string;
  organization_id: string;
  token_hash: Buffer;
  expires_at: Date;
  created_by: string | null;
  kind: 'full' | 'password' | 'totp';
  created_at: Date;
}

/** Stores the link's hash; an earlier link of the same user stops working. */
export async function upsertEnrollment(trx: Tx, row: Omit<EnrollmentRow, 'created_at'>): Promise<void> {
  await trx('enrollments').insert(row).onConflict('user_id').merge(['token_hash', 'expires_at', 'created_by', 'created_at', 'kind']);
}

/** Before any organization is known (SECURITY DEFINER): who a token hash belongs to. */
export async function findEnrollmentRef(db: Db, tokenHash: Buffer): Promise<{ user_id: string; organization_id: string } | undefined> {
  const { rows } = await db.raw('select * from auth_find_enrollment(?)', [tokenHash]);
  return rows[0];
}

export async function findEnrollment(trx: Tx, tokenHash: Buffer): Promise<EnrollmentRow | undefined> {
  return trx('enrollments').where({ token_hash: tokenHash }).first();
}

/** Takes the link (single use, also under concurrent use); undefined when it is gone or expired. */
export async function claimEnrollment(trx: Tx, tokenHash: Buffer): Promise<{ user_id: string; kind: EnrollmentRow['kind'] } | undefined> {
  const rows = await trx('enrollments').where({ token_hash: tokenHash }).andWhere('expires_at', '>', trx.fn.now()).delete().returning(['user_id', 'kind']);
  return rows[0];
}

export async function deleteEnrollment(trx: Tx, userId: string): Promise<void> {
  await trx('enrollments').where({ user_id: userId }).delete();
}

export async function organizationOf(trx: Tx, organizationId: string): Promise<{ name: string; slug: string } | undefined> {
  return trx('organizations').where({ id: organizationId }).first('name', 'slug');
}
