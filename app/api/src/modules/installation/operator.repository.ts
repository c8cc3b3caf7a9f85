// Installation operators: the only files that touch installation_operators. Every call runs in
// installation scope (withScope … installation: true); RLS refuses the table otherwise.
import type { Tx } from '../../db/connection.ts';

export interface OperatorRow {
  user_id: string;
  organization_id: string;
  organization_name: string;
  username: string | null;
  display_name: string;
  active: boolean;
  granted_by: string | null;
  granted_at: Date;
}

/** Enters or leaves installation scope inside a transaction that began in an organization's scope (setup). */
export async function setInstallationScope(trx: Tx, on: boolean): Promise<void> {
  await trx.raw("select set_config('app.installation', ?, true)", [on ? 'on' : '']);
}

export async function listOperators(trx: Tx): Promise<OperatorRow[]> {
  const { rows } = await trx.raw('select * from installation_operator_list()');
  return rows;
}

export interface AnyUserRef {
  id: string;
  organization_id: string;
  active: boolean;
}

/**
 * The accounts a key may mean: an id, "name@org-slug", or a plain name (the installation's first
 * organization; then also the same name in other organizations, so the caller can see it is ambiguous).
 */
export async function findUsersByKey(trx: Tx, key: string): Promise<AnyUserRef[]> {
  const { rows } = await trx.raw('select * from installation_find_user(?)', [key]);
  return rows;
}

/** Whether the account holds the installation role; callable in any scope (SECURITY DEFINER). */
export async function isInstallationOperator(trx: Tx, userId: string): Promise<boolean> {
  const { rows } = await trx.raw('select is_installation_operator(?) as yes', [userId]);
  return rows[0].yes === true;
}

export async function insertOperator(trx: Tx, userId: string, grantedBy: string | null): Promise<boolean> {
  const rows = await trx('installation_operators').insert({ user_id: userId, granted_by: grantedBy }).onConflict('user_id').ignore().returning('user_id');
  return rows.length === 1;
}

export async function deleteOperator(trx: Tx, userId: string): Promise<boolean> {
  return (await trx('installation_operators').where({ user_id: userId }).delete()) === 1;
}
