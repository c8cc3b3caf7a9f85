import type { Tx } from '../../db/connection.ts';
import type { Role } from '../../core/permissions.ts';

export interface UserRow {
  id: string;
  organization_id: string;
  username: string | null;
  display_name: string;
  email: string | null;
  oidc_issuer: string | null;
  oidc_subject: string | null;
  password_hash: string | null;
  totp_secret: Buffer | null;
  totp_confirmed: boolean;
  recovery_codes: string[];
  roles: Role[];
  locale: 'de' | 'en';
  active: boolean;
  failed_attempts: number;
  locked_until: Date | null;
  last_login_at: Date | null;
  created_at: Date;
}

export type NewUser = Partial<Omit<UserRow, 'created_at'>> & Pick<UserRow, 'organization_id' | 'display_name' | 'roles'>;

export async function insertUser(trx: Tx, user: NewUser): Promise<string> {
  const row = { ...user, recovery_codes: JSON.stringify(user.recovery_codes ?? []) };
  const [created] = await trx('users').insert(row).returning('id');
  return created.id;
}

export async function findUser(trx: Tx, id: string): Promise<UserRow | undefined> {
  return trx('users').where({ id }).first();
}

export const PUBLIC_USER_COLUMNS = ['id', 'username', 'display_name', 'email', 'oidc_issuer', 'roles', 'locale', 'active', 'last_login_at', 'created_at'] as const;

export async function listUsers(trx: Tx) {
  return trx('users').select(...PUBLIC_USER_COLUMNS).orderBy('display_name');
}

export async function updateUser(trx: Tx, id: string, patch: Partial<UserRow>): Promise<number> {
  const row: Record<string, unknown> = { ...patch, updated_at: trx.fn.now() };
  if (patch.recovery_codes) row.recovery_codes = JSON.stringify(patch.recovery_codes);
  return trx('users').where({ id }).update(row);
}
