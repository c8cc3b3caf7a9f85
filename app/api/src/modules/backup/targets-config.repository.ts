// Backup targets configured in the admin UI (table backup_targets, installation scope by RLS).
import type { Tx } from '../../db/connection.ts';

export interface TargetRow {
  id: string;
  name: string;
  type: 'sftp' | 'local';
  host: string | null;
  port: number | null;
  username: string | null;
  root: string | null;
  host_key_fingerprint: string | null;
  path: string | null;
  provider: string | null;
  location: string;
  secret: Buffer | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export const listTargetRows = (trx: Tx): Promise<TargetRow[]> => trx('backup_targets').select('*').orderBy('name');
export const targetRow = (trx: Tx, name: string): Promise<TargetRow | undefined> => trx('backup_targets').where({ name }).first('*');
export async function insertTargetRow(trx: Tx, row: Partial<TargetRow> & { id: string; name: string; type: TargetRow['type'] }): Promise<TargetRow> {
  const [r] = await trx('backup_targets').insert(row).returning('*');
  return r;
}
export async function updateTargetRow(trx: Tx, id: string, patch: Partial<TargetRow>): Promise<TargetRow> {
  const [r] = await trx('backup_targets').where({ id }).update({ ...patch, updated_at: trx.fn.now() }).returning('*');
  return r;
}
export const deleteTargetRow = (trx: Tx, id: string) => trx('backup_targets').where({ id }).delete();
