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

/** A user of any organization, by id or username. */
export async function findAnyUser(trx: Tx, key: string): Promise<{ id: string; organization_id: string; active: boolean } | undefined> {
  const { rows } = await trx.raw('select * from installation_find_user(?)', [key]);
  return rows[0];
}

export async function insertOperator(trx: Tx, userId: string, grantedBy: string | null): Promise<boolean> {
  const rows = await trx('installation_operators').insert({ user_id: userId, granted_by: grantedBy }).onConflict('user_id').ignore().returning('user_id');
  return rows.length === 1;
}

export async function deleteOperator(trx: Tx, userId: string): Promise<boolean> {
  return (await trx('installation_operators').where({ user_id: userId }).delete()) === 1;
}
