// Just-in-time provisioning: users are found by issuer + sub only (never by e-mail); roles come
// from the IdP at every sign-in (a change ends the old sessions); no mapped role → refused.
import type { Services } from '../../../http/services.ts';
import type { Role } from '../../../core/permissions.ts';
import { withScope } from '../../../db/connection.ts';
import { audit } from '../../audit/audit.service.ts';
import { findOidcUserRef, findUser, insertUser, updateUser } from '../../users/user.repository.ts';
import { createSession, endSessionByToken, type IssuedSession } from '../session.service.ts';
import type { ClientInfo } from '../local-login.service.ts';
import { findProvisioningOrganization } from './oidc.repository.ts';
import { OidcLoginError } from './oidc.errors.ts';

export interface OidcIdentity {
  issuer: string;
  subject: string;
  sid: string | undefined;
  displayName: string;
  email: string | null;
  roles: Role[];
}

async function targetOrganization(services: Services, issuer: string, subject: string) {
  const existing = await findOidcUserRef(services.db, issuer, subject);
  if (existing) return { organizationId: existing.organization_id, userId: existing.id as string | undefined };
  const configured = services.config.oidc.organizationId;
  const found = await findProvisioningOrganization(services.db, configured);
  if (!found.organizationId) {
    throw new OidcLoginError('oidc_no_organization', configured
      ? `PRAXISKERN_OIDC_ORGANIZATION_ID ${configured} is not an active organization`
      : `${found.activeCount} active organizations: set PRAXISKERN_OIDC_ORGANIZATION_ID`);
  }
  if (!configured && found.activeCount !== 1) {
    throw new OidcLoginError('oidc_no_organization', `${found.activeCount} active organizations: set PRAXISKERN_OIDC_ORGANIZATION_ID`);
  }
  return { organizationId: found.organizationId, userId: undefined };
}

export async function provisionOidcUser(services: Services, id: OidcIdentity, info: ClientInfo): Promise<IssuedSession> {
  const target = await targetOrganization(services, id.issuer, id.subject);
  const refused = await withScope(services.db, { organizationId: target.organizationId, userId: target.userId ?? null }, async (trx) => {
    const user = target.userId ? await findUser(trx, target.userId) : undefined;
    if (user && !user.active) return new OidcLoginError('oidc_inactive', 'the account is deactivated in Praxiskern', { id: user.id, organizationId: user.organization_id });
    if (id.roles.length === 0) {
      // The IdP no longer grants any role: take the roles away here too, which ends old sessions.
      if (user) await updateUser(trx, user.id, { roles: [] });
      return new OidcLoginError('oidc_no_role', 'no value of the role claim maps to a Praxiskern role', user && { id: user.id, organizationId: user.organization_id });
    }
    return undefined;
  });
  if (refused) throw refused;
  await endSessionByToken(services.db, info.previousToken);
  return withScope(services.db, { organizationId: target.organizationId, userId: target.userId ?? null }, async (trx) => {
    let userId = target.userId;
    const profile = { display_name: id.displayName, email: id.email, roles: id.roles, last_login_at: new Date() };
    if (userId) await updateUser(trx, userId, profile);
    else {
      userId = await insertUser(trx, { organization_id: target.organizationId, oidc_issuer: id.issuer, oidc_subject: id.subject, ...profile });
      await audit(trx, { action: 'user.provisioned', objectType: 'user', objectId: userId, organizationId: target.organizationId, actorUserId: userId, details: { roles: id.roles, issuer: id.issuer } });
    }
    const issued = await createSession(trx, services.config, {
      organizationId: target.organizationId, userId, roles: id.roles, method: 'oidc', oidcIssuer: id.issuer, oidcSid: id.sid,
    }, info.ip, info.userAgent);
    await audit(trx, {
      action: 'auth.login', objectType: 'user', objectId: userId, organizationId: target.organizationId, actorUserId: userId,
      details: { method: 'oidc', roles: id.roles, sessionId: issued.sessionId },
    });
    return issued;
  });
}
