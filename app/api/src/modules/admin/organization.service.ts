// Organizations (tenants), managed by the platform owner: list them, and create one together with
// its first administrator. The administrator gets a one-time enrollment link and chooses password
// and TOTP themselves: the platform owner never holds credentials of an organization's account.
import { randomUUID } from 'node:crypto';
import type { Services } from '../../http/services.ts';
import { withScope } from '../../db/connection.ts';
import { AppError } from '../../core/errors.ts';
import { audit } from '../audit/audit.service.ts';
import { insertUser } from '../users/user.repository.ts';
import { issueEnrollment } from '../users/enrollment.service.ts';
import { insertOrganization, listOrganizations, type OrganizationRow } from './organization.repository.ts';
import type { CreateOrganizationInput } from './organization.schema.ts';

export interface PlatformOperator {
  organizationId: string;
  userId: string | null;
}

const toPublic = (o: OrganizationRow) => ({ id: o.id, name: o.name, slug: o.slug, active: o.active, createdAt: o.created_at });

export async function listAllOrganizations(services: Services, op: PlatformOperator) {
  return withScope(services.db, { organizationId: op.organizationId, userId: op.userId, platform: true }, async (trx) => {
    const rows = await listOrganizations(trx);
    await audit(trx, { action: 'organization.list', objectType: 'organization', organizationId: null, actorUserId: op.userId, details: { count: rows.length } });
    return rows.map(toPublic);
  });
}

function mapConflict(err: unknown): unknown {
  const e = err as { code?: string; constraint?: string };
  if (e?.code === '23505' && e.constraint === 'organizations_slug_key') return new AppError(409, 'conflict', 'slug: is already taken', [{ field: 'slug', message: 'is already taken' }]);
  return err;
}

export async function createOrganization(services: Services, op: PlatformOperator, input: CreateOrganizationInput) {
  const organizationId = randomUUID();
  const adminId = randomUUID();
  try {
    return await withScope(services.db, { organizationId, userId: op.userId, platform: true }, async (trx) => {
      await insertOrganization(trx, { id: organizationId, name: input.name, slug: input.slug });
      await insertUser(trx, {
        id: adminId, organization_id: organizationId, username: input.admin.username, display_name: input.admin.displayName,
        email: input.admin.email ?? null, roles: ['admin'],
      });
      const details = { slug: input.slug, adminUserId: adminId };
      await audit(trx, { action: 'organization.created', objectType: 'organization', objectId: organizationId, organizationId, actorUserId: op.userId, details });
      const enrollment = await issueEnrollment(trx, services.config, { userId: adminId, organizationId }, op.userId);
      await audit(trx, { action: 'organization.created', objectType: 'organization', objectId: organizationId, organizationId: null, actorUserId: op.userId, details });
      return {
        organization: { id: organizationId, name: input.name, slug: input.slug },
        admin: { id: adminId, username: input.admin.username, loginName: `${input.admin.username}@${input.slug}`, enrollment: { url: enrollment.url, expiresAt: enrollment.expiresAt } },
      };
    });
  } catch (err) {
    throw mapConflict(err);
  }
}
