// The installation audit view: the chain of audit_log rows with organization_id null (seal and
// unseal, passphrase, backup runs and drills, recovery kit, restore, operator grants, organization
// creation, denied attempts on installation routes). Visible in installation scope only (RLS).
import type { Services } from '../../http/services.ts';
import { withScope } from '../../db/connection.ts';
import { audit } from '../audit/audit.service.ts';
import { listAudit, type AuditQuery } from '../audit/audit.repository.ts';
import type { InstallationActor } from './operator.service.ts';

export async function readInstallationAudit(services: Services, by: InstallationActor, query: AuditQuery) {
  return withScope(services.db, { organizationId: null, userId: by.userId, installation: true, readOnly: true }, async (trx) => {
    const entries = await listAudit(trx, query);
    await audit(trx, { action: 'installation.audit_read', objectType: 'audit_log', organizationId: null, actorUserId: by.userId, details: { count: entries.length } });
    return entries;
  });
}
