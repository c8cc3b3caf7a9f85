import type { Db, Tx } from '../../db/connection.ts';
import type { KdfParams } from './keystore.crypto.ts';

export interface SealRow {
  kdf: KdfParams;
  salt: Buffer;
  wrapped_master_key: Buffer;
}

export async function readSealConfig(db: Db | Tx): Promise<SealRow | undefined> {
  return db('seal_config').where({ id: 1 }).first('kdf', 'salt', 'wrapped_master_key');
}

export async function insertSealConfig(trx: Tx, row: SealRow): Promise<void> {
  await trx('seal_config').insert({ id: 1, kdf: JSON.stringify(row.kdf), salt: row.salt, wrapped_master_key: row.wrapped_master_key });
}

export async function updateSealConfig(trx: Tx, row: SealRow): Promise<void> {
  await trx('seal_config')
    .where({ id: 1 })
    .update({ kdf: JSON.stringify(row.kdf), salt: row.salt, wrapped_master_key: row.wrapped_master_key, rotated_at: trx.fn.now() });
}
