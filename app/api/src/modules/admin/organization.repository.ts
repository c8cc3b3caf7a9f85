import type { Tx } from '../../db/connection.ts';

export interface OrganizationRow {
  id: string;
  name: string;
  slug: string;
  active: boolean;
  created_at: Date;
}

/** Needs a platform scope (withScope { platform: true }): RLS then shows every organization. */
export async function listOrganizations(trx: Tx): Promise<OrganizationRow[]> {
  return trx('organizations').select('id', 'name', 'slug', 'active', 'created_at').orderBy('name');
}

export async function findOrganizationBySlug(trx: Tx, slug: string): Promise<OrganizationRow | undefined> {
  return trx('organizations').where({ slug }).first('id', 'name', 'slug', 'active', 'created_at');
}

export async function insertOrganization(trx: Tx, row: { id: string; name: string; slug: string }): Promise<void> {
  await trx('organizations').insert(row);
}

/** Switches the transaction's organization (row-level security) to another one. */
export async function switchOrganization(trx: Tx, organizationId: string): Promise<void> {
  await trx.raw("select set_config('app.org_id', ?, true)", [organizationId]);
}
