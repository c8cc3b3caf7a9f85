import type { Db, Tx } from '../../db/connection.ts';
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
  totp_last_step: string | null;
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

export const PUBLIC_USER_COLUMNS = ['id', 'username', 'display_name', 'email', 'oidc_issuer', 'roles', 'locale', 'active', 'locked_until', 'last_login_at', 'created_at'] as const;

/** The public columns plus when a pending enrollment link expires (null: none pending). */
const publicUsers = (trx: Tx) =>
  trx('users as u').leftJoin('enrollments as e', 'e.user_id', 'u.id').select(...PUBLIC_USER_COLUMNS.map((c) => `u.${c}`), 'e.expires_at as enrollment_expires_at', 'e.kind as enrollment_kind');

export async function listUsers(trx: Tx) {
  return publicUsers(trx).orderBy('u.display_name');
}

export async function updateUser(trx: Tx, id: string, patch: Partial<UserRow>): Promise<number> {
  const row: Record<string, unknown> = { ...patch, updated_at: trx.fn.now() };
  if (patch.recovery_codes) row.recovery_codes = JSON.stringify(patch.recovery_codes);
  return trx('users').where({ id }).update(row);
}

export async function findPublicUser(trx: Tx, id: string) {
  return publicUsers(trx).where('u.id', id).first();
}

/** Active administrators of the organization other than `exceptId` (the last admin is protected). */
export async function countOtherActiveAdmins(trx: Tx, exceptId: string): Promise<number> {
  const row = await trx('users').where({ active: true }).whereNot({ id: exceptId }).whereRaw("'admin' = any(roles)").count<{ n: string }[]>('* as n').first();
  return Number(row?.n ?? 0);
}

/** A sign-in name, "name" (the installation's first organization) or "name@organization-slug". */
export function parseLoginName(loginName: string): { username: string; slug: string | null } {
  const name = loginName.trim().toLowerCase();
  const at = name.lastIndexOf('@');
  return at < 0 ? { username: name, slug: null } : { username: name.slice(0, at), slug: name.slice(at + 1) };
}

export interface LoginRef {
  /** The same for every spelling of one account, and for names that do not exist. */
  accountKey: string;
  id: string | null;
  organizationId: string | null;
}

/** Sign-in look-ups before the organization is known (SECURITY DEFINER functions). */
export async function resolveLogin(db: Db | Tx, loginName: string): Promise<LoginRef> {
  const { username, slug } = parseLoginName(loginName);
  const { rows } = await db.raw('select * from auth_resolve_login(?, ?)', [username, slug]);
  return { accountKey: rows[0].account_key, id: rows[0].id ?? null, organizationId: rows[0].organization_id ?? null };
}

export async function findOidcUserRef(db: Db | Tx, issuer: string, subject: string): Promise<{ id: string; organization_id: string } | undefined> {
  const { rows } = await db.raw('select * from auth_find_oidc_user(?, ?)', [issuer, subject]);
  return rows[0];
}

/** Accepts a TOTP step only if it is later than the last accepted one; false means replay. */
export async function claimTotpStep(trx: Tx, id: string, step: number): Promise<boolean> {
  const n = await trx('users').where({ id }).andWhere((q) => q.whereNull('totp_last_step').orWhere('totp_last_step', '<', step)).update({ totp_last_step: step });
  return n === 1;
}

/** Removes one recovery code hash; false when it was not (or no longer) there. */
export async function consumeRecoveryCode(trx: Tx, id: string, codeHash: string): Promise<boolean> {
  const n = await trx('users')
    .where({ id })
    .andWhereRaw('jsonb_exists(recovery_codes, ?)', [codeHash])
    .update({ recovery_codes: trx.raw('recovery_codes - ?::text', [codeHash]) });
  return n === 1;
}

export async function findUserByIdOrUsername(trx: Tx, key: string): Promise<UserRow | undefined> {
  const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(key);
  return trx('users').where(isUuid ? { id: key } : { username: key.toLowerCase() }).first();
}
