// The relying-party configuration from the IdP's discovery document, fetched lazily on first use
// and cached; a failed discovery is not cached, so the next login retries.
import * as client from 'openid-client';
import type { Config } from '../../../core/config.ts';
import { log } from '../../../core/context.ts';

export const CALLBACK_PATH = '/api/v1/auth/oidc/callback';

export function isOidcConfigured(config: Config): boolean {
  return Boolean(config.oidc.issuer && config.oidc.clientId);
}

/** Plain http is allowed only for an IdP on this machine (tests, development). */
export function isLoopbackHttp(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
}

export const redirectUri = (config: Config) => `${config.publicUrl}${CALLBACK_PATH}`;

const cache = new WeakMap<Config, Promise<client.Configuration>>();

async function discover(config: Config): Promise<client.Configuration> {
  const { issuer, clientId, clientSecret } = config.oidc;
  const execute = isLoopbackHttp(issuer!) ? [client.allowInsecureRequests] : [];
  let lastError: unknown;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const rp = await client.discovery(new URL(issuer!), clientId!, clientSecret, clientSecret ? client.ClientSecretPost(clientSecret) : client.None(), { execute, timeout: 10 });
      // Verify the ID token signature against the IdP's JWKS as well (refuses "alg: none").
      client.enableNonRepudiationChecks(rp);
      return rp;
    } catch (err) {
      lastError = err;
      log().warn({ err: (err as Error).message, attempt }, 'OIDC discovery failed');
    }
  }
  throw lastError;
}

export function oidcConfiguration(config: Config): Promise<client.Configuration> {
  let pending = cache.get(config);
  if (!pending) {
    pending = discover(config);
    cache.set(config, pending);
    pending.catch(() => cache.delete(config));
  }
  return pending;
}
