// Logout with the IdP. RP-initiated: the URL of the IdP's end_session_endpoint for the browser.
// Back-channel (OIDC Back-Channel Logout 1.0): the IdP posts a signed logout token; we verify it
// against the IdP's JWKS and end the sessions it names (by sid, or all of the sub's).
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { Services } from '../../../http/services.ts';
import { AppError, notFound } from '../../../core/errors.ts';
import { log } from '../../../core/context.ts';
import { withScope } from '../../../db/connection.ts';
import { audit } from '../../audit/audit.service.ts';
import { deleteSessionsByIds, findOidcSessionRefs } from '../session.repository.ts';
import { isOidcConfigured, oidcConfiguration } from './oidc.client.ts';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const jwksByConfig = new WeakMap<client.Configuration, ReturnType<typeof createRemoteJWKSet>>();

export const invalidLogoutToken = (message: string) =>
  new AppError(400, 'invalid_logout_token', `logout_token: ${message}`, [{ field: 'logout_token', message }]);

export async function endSessionUrl(services: Services): Promise<string | null> {
  const { config } = services;
  if (!isOidcConfigured(config)) return null;
  try {
    const rp = await oidcConfiguration(config);
    if (!rp.serverMetadata().end_session_endpoint) return null;
    return client.buildEndSessionUrl(rp, { client_id: config.oidc.clientId!, post_logout_redirect_uri: `${config.publicUrl}/login` }).href;
  } catch (err) {
    log().warn({ err: (err as Error).message }, 'no end-session URL: OIDC discovery failed');
    return null;
  }
}

/** Validates a logout token; returns the issuer and the sid and/or sub it names. */
export async function verifyLogoutToken(services: Services, token: string): Promise<{ issuer: string; sid: string | null; sub: string | null }> {
  if (!isOidcConfigured(services.config)) throw notFound('OIDC configuration');
  const rp = await oidcConfiguration(services.config).catch(() => {
    throw new AppError(503, 'oidc_unavailable', 'The identity provider cannot be reached to verify the logout token');
  });
  const meta = rp.serverMetadata();
  if (!meta.jwks_uri) throw new AppError(503, 'oidc_unavailable', 'The identity provider publishes no jwks_uri');
  let jwks = jwksByConfig.get(rp);
  if (!jwks) jwksByConfig.set(rp, (jwks = createRemoteJWKSet(new URL(meta.jwks_uri))));
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, jwks, {
      issuer: meta.issuer, audience: services.config.oidc.clientId!, algorithms: ALGORITHMS,
      requiredClaims: ['iat'], maxTokenAge: '10m', clockTolerance: 30,
    }));
  } catch (err) {
    throw invalidLogoutToken((err as Error).message);
  }
  const events = payload.events as Record<string, unknown> | undefined;
  const event = events && typeof events === 'object' ? events[EVENT] : undefined;
  if (!event || typeof event !== 'object' || Array.isArray(event)) throw invalidLogoutToken(`the events claim must contain ${EVENT}`);
  if ('nonce' in payload) throw invalidLogoutToken('must not contain a nonce');
  const sid = typeof payload.sid === 'string' ? payload.sid : null;
  const sub = typeof payload.sub === 'string' ? payload.sub : null;
  if (!sid && !sub) throw invalidLogoutToken('must contain sid or sub');
  return { issuer: meta.issuer, sid, sub };
}

/** Ends the sessions a valid logout token names; returns how many ended. */
export async function backchannelLogout(services: Services, token: string): Promise<number> {
  const { issuer, sid, sub } = await verifyLogoutToken(services, token);
  const refs = await findOidcSessionRefs(services.db, issuer, sid, sub);
  const byUser = new Map<string, { organizationId: string; ids: string[] }>();
  for (const r of refs) {
    const entry = byUser.get(r.user_id) ?? { organizationId: r.organization_id, ids: [] };
    entry.ids.push(r.id);
    byUser.set(r.user_id, entry);
  }
  let ended = 0;
  for (const [userId, { organizationId, ids }] of byUser) {
    ended += await withScope(services.db, { organizationId, userId }, async (trx) => {
      const n = await deleteSessionsByIds(trx, ids);
      await audit(trx, { action: 'auth.backchannel_logout', objectType: 'user', objectId: userId, organizationId, actorUserId: userId, details: { sessions: n, bySid: Boolean(sid) } });
      return n;
    });
  }
  return ended;
}
