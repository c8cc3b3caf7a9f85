import type { Db, Tx } from '../../db/connection.ts';

export async function isInitialized(db: Db | Tx): Promise<boolean> {
  const row = await db('installation').where({ id: 1 }).first('initialized_at');
  return Boolean(row?.initialized_at);
}

/** Locks the installation row so two concurrent setups cannot both succeed. */
export async function lockInstallation(trx: Tx): Promise<{ initialized: boolean; installationId: string }> {
  await trx('installation').insert({ id: 1 }).onConflict('id').ignore();
  const row = await trx('installation').where({ id: 1 }).forUpdate().first('initialized_at', 'installation_id');
  return { initialized: Boolean(row.initialized_at), installationId: row.installation_id };
}

export async function markInitialized(trx: Tx): Promise<void> {
  await trx('installation').where({ id: 1 }).update({ initialized_at: trx.fn.now() });
}

export async function installationId(db: Db): Promise<string | undefined> {
  return (await db('installation').where({ id: 1 }).first('installation_id'))?.installation_id;
}
