import type { Db } from '../../../db/connection.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The organization for a new OIDC user (SECURITY DEFINER: runs before any organization is known). */
export async function findProvisioningOrganization(db: Db, configured: string | undefined): Promise<{ organizationId: string | null; activeCount: number }> {
  if (configured !== undefined && !UUID.test(configured)) return { organizationId: null, activeCount: 0 };
  const { rows } = await db.raw('select * from auth_provisioning_organization(?::uuid)', [configured ?? null]);
  return { organizationId: rows[0]?.organization_id ?? null, activeCount: Number(rows[0]?.active_count ?? 0) };
}
