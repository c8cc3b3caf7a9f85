// OIDC sign-in: authorization code + PKCE (S256) + state + nonce. openid-client checks state,
// issuer, audience, expiry, nonce and (non-repudiation) the ID token signature; we then map the
// roles strictly, provision or update the user (keyed on issuer + sub) and open a session.
import * as client from 'openid-client';
import type { Services } from '../../../http/services.ts';
import type { Role } from '../../../core/permissions.ts';
import { mapRoles } from './oidc.roles.ts';
import { oidcConfiguration, redirectUri } from './oidc.client.ts';
import { TX_TTL_SECONDS, type OidcTransaction } from './oidc.transaction.ts';
import { provisionOidcUser, type OidcIdentity } from './oidc.provisioning.ts';
import type { ClientInfo } from '../local-login.service.ts';
import type { IssuedSession } from '../session.service.ts';
import { OidcLoginError } from './oidc.errors.ts';

export { OidcLoginError };

export async function beginOidcLogin(services: Services): Promise<{ url: string; tx: OidcTransaction }> {
  const rp = await discoveryOrFail(services);
  const codeVerifier = client.randomPKCECodeVerifier();
  const tx: OidcTransaction = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier, exp: Math.floor(Date.now() / 1000) + TX_TTL_SECONDS };
  const url = client.buildAuthorizationUrl(rp, {
    redirect_uri: redirectUri(services.config),
    scope: services.config.oidc.scopes,
    response_type: 'code',
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state: tx.state,
    nonce: tx.nonce,
  });
  return { url: url.href, tx };
}

async function discoveryOrFail(services: Services): Promise<client.Configuration> {
  try {
    return await oidcConfiguration(services.config);
  } catch (err) {
    throw new OidcLoginError('oidc_unavailable', `discovery failed: ${(err as Error).message}`);
  }
}

/** openid-client wraps the precise reason (e.g. 'unexpected JWT "nonce" claim value') in `cause`. */
function describe(err: unknown): string {
  const parts: string[] = [];
  for (let e = err as { message?: string; code?: string; cause?: unknown } | undefined, i = 0; e && i < 4; e = e.cause as typeof e, i++) {
    if (typeof e.message === 'string') parts.push(e.code ? `${e.code}: ${e.message}` : e.message);
  }
  return parts.join(' <- ');
}

function classify(err: unknown): OidcLoginError {
  const cause = describe(err);
  if (err instanceof client.AuthorizationResponseError) return new OidcLoginError('oidc_denied', `IdP returned error ${err.error}`);
  if (/"state"/.test(cause)) return new OidcLoginError('oidc_state', cause);
  return new OidcLoginError('oidc_invalid_response', cause);
}

async function exchangeCode(rp: client.Configuration, services: Services, tx: OidcTransaction, query: string) {
  const currentUrl = new URL(`${redirectUri(services.config)}?${query}`);
  try {
    const tokens = await client.authorizationCodeGrant(rp, currentUrl, {
      pkceCodeVerifier: tx.codeVerifier, expectedState: tx.state, expectedNonce: tx.nonce, idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (!claims) throw new Error('no ID token');
    const source = services.config.oidc.roleSource === 'userinfo' ? await client.fetchUserInfo(rp, tokens.access_token, claims.sub) : claims;
    return { claims, roleClaims: source as Record<string, unknown> };
  } catch (err) {
    throw err instanceof OidcLoginError ? err : classify(err);
  }
}

export async function completeOidcLogin(services: Services, tx: OidcTransaction | undefined, query: string, info: ClientInfo): Promise<IssuedSession> {
  if (!tx) throw new OidcLoginError('oidc_state', 'login transaction cookie missing, forged or expired');
  const rp = await discoveryOrFail(services);
  const { claims, roleClaims } = await exchangeCode(rp, services, tx, query);
  const { roleClaim, roleMap } = services.config.oidc;
  const roles: Role[] = mapRoles(roleClaims, roleClaim, roleMap);
  const identity: OidcIdentity = {
    issuer: rp.serverMetadata().issuer,
    subject: claims.sub,
    sid: typeof claims.sid === 'string' ? claims.sid : undefined,
    displayName: pickName(claims),
    email: typeof claims.email === 'string' ? claims.email.slice(0, 320) : null,
    roles,
  };
  return provisionOidcUser(services, identity, info);
}

function pickName(claims: client.IDToken): string {
  for (const k of ['name', 'preferred_username', 'email'] as const) {
    const v = claims[k];
    if (typeof v === 'string' && v.trim()) return v.trim().slice(0, 200);
  }
  return claims.sub.slice(0, 200);
}
