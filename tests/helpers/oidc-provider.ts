// A real OpenID provider (npm oidc-provider) on a loopback port for the OIDC tests: accounts with
// configurable claims, one confidential client with back-channel logout, and a minimal interaction
// that signs in the account named by `login_hint` (no HTML forms to drive).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { Client } from './http-client.ts';

export interface TestAccount {
  claims: Record<string, unknown>;
  /** Claims released only from the userinfo endpoint, never in the ID token. */
  userinfoOnly?: string[];
}

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  accounts: Map<string, TestAccount>;
  signingJwk: JWK;
  /** Creates the provider once the app's URLs are known; until then every request gets 503. */
  init(app: { publicUrl: string; url: string }): void;
  /** Follows the IdP's redirects for `account` and returns the URL it sends the browser back to. */
  authorize(authorizeUrl: string, account: string): Promise<URL>;
  /** Lets the provider itself send a back-channel logout token to the app. */
  backchannelLogout(sub: string, sid: string): Promise<void>;
  /** Signs a logout token with the provider's key (or another key to forge one). */
  signLogoutToken(claims: Record<string, unknown>, key?: SigningKey, kid?: string): Promise<string>;
  close(): Promise<void>;
}

export type SigningKey = Parameters<SignJWT['sign']>[0];

export const CLIENT_ID = 'praxiskern-test';
const CLIENT_SECRET = 'praxiskern-test-secret-0123456789abcdef';

export async function startTestIdp(): Promise<TestIdp> {
  let handler: http.RequestListener | undefined;
  const server = http.createServer((req, res) => (handler ? handler(req, res) : res.writeHead(503).end('not ready')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingJwk: JWK = { ...(await exportJWK(privateKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
  const accounts = new Map<string, TestAccount>();
  let provider: Provider | undefined;

  const configuration = (app: { publicUrl: string; url: string }): Configuration => ({
    clients: [{
      client_id: CLIENT_ID, client_secret: CLIENT_SECRET, token_endpoint_auth_method: 'client_secret_post',
      redirect_uris: [`${app.publicUrl}/api/v1/auth/oidc/callback`], post_logout_redirect_uris: [`${app.publicUrl}/login`],
      backchannel_logout_uri: `${app.url}/api/v1/auth/oidc/backchannel-logout`, backchannel_logout_session_required: true,
    }],
    jwks: { keys: [signingJwk as never] },
    claims: { openid: ['sub', 'sid', 'name', 'email', 'roles', 'groups', 'realm_access'] },
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false }, backchannelLogout: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    // The provider refuses to call loopback addresses (SSRF protection); the app runs on one here.
    fetch: (url, options) => {
      delete (options as { dispatcher?: unknown } | undefined)?.dispatcher;
      return fetch(url, options);
    },
    async findAccount(_ctx: KoaContextWithOIDC, id: string) {
      const account = accounts.get(id);
      if (!account) return undefined;
      return {
        accountId: id,
        async claims(use: string) {
          const claims: Record<string, unknown> = { sub: id, ...account.claims };
          if (use === 'id_token') for (const k of account.userinfoOnly ?? []) delete claims[k];
          return claims as { sub: string };
        },
      };
    },
  });

  function loginInteraction(p: Provider) {
    return async function interaction(ctx: KoaContextWithOIDC, next: () => Promise<void>) {
      if (!ctx.path.startsWith('/interaction/')) return next();
      const details = await p.interactionDetails(ctx.req, ctx.res);
      const accountId = String(details.params.login_hint ?? '');
      ctx.respond = false;
      if (!accounts.has(accountId)) {
        await p.interactionFinished(ctx.req, ctx.res, { error: 'access_denied', error_description: 'unknown test account' }, { mergeWithLastSubmission: false });
        return;
      }
      const grant = new p.Grant({ accountId, clientId: String(details.params.client_id) });
      grant.addOIDCScope(String(details.params.scope));
      const grantId = await grant.save();
      await p.interactionFinished(ctx.req, ctx.res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
    };
  }

  return {
    issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, accounts, signingJwk,
    init(app) {
      provider = new Provider(issuer, configuration(app));
      provider.use(loginInteraction(provider) as never);
      handler = provider.callback();
    },
    async authorize(authorizeUrl, account) {
      const browser = new Client('');
      const start = new URL(authorizeUrl);
      if (start.origin !== issuer) throw new Error(`not an authorization URL of this IdP: ${authorizeUrl}`);
      start.searchParams.set('login_hint', account);
      let url = start;
      for (let hop = 0; hop < 10; hop++) {
        const res = await browser.get(url.href);
        const location = res.headers.get('location');
        if (!location) throw new Error(`IdP stopped at ${url.pathname} with ${res.status}: ${res.text.slice(0, 300)}`);
        url = new URL(location, url);
        if (url.origin !== issuer) return url;
      }
      throw new Error('too many redirects at the IdP');
    },
    async backchannelLogout(sub, sid) {
      const client = await provider!.Client.find(CLIENT_ID);
      await (client as unknown as { backchannelLogout(sub: string, sid: string): Promise<void> }).backchannelLogout(sub, sid);
    },
    async signLogoutToken(claims, key, kid = signingJwk.kid) {
      const signer = key ?? (await importJWK(signingJwk, 'RS256'));
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ: 'logout+jwt' }).sign(signer);
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
