// A tiny hand-written IdP (discovery, JWKS, authorize, token) that can emit the broken ID tokens
// a real provider never would: wrong issuer or audience, expired, `alg: none`, wrong key. The
// test picks the defect per sign-in with a `defect` parameter on the authorization URL.
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

export type Defect = 'none' | 'wrong_issuer' | 'wrong_audience' | 'expired' | 'alg_none' | 'wrong_key' | 'no_role';
export type SigningKey = Parameters<SignJWT['sign']>[0];

export interface FakeIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  key: SigningKey;
  otherKey: SigningKey;
  sign(claims: Record<string, unknown>, opts?: { key?: SigningKey; typ?: string }): Promise<string>;
  close(): Promise<void>;
}

const b64u = (s: string) => Buffer.from(s).toString('base64url');

export async function startFakeIdp(): Promise<FakeIdp> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const other = await generateKeyPair('RS256');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'fake-1', alg: 'RS256', use: 'sig' };
  const codes = new Map<string, { nonce: string; challenge: string; defect: Defect; sub: string }>();
  const clientId = 'fake-client';
  const clientSecret = 'fake-client-secret';
  let issuer = '';

  const sign = (claims: Record<string, unknown>, opts: { key?: SigningKey; typ?: string } = {}) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'fake-1', ...(opts.typ ? { typ: opts.typ } : {}) }).sign(opts.key ?? privateKey);

  async function idToken(c: { nonce: string; defect: Defect; sub: string }): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = { iss: issuer, aud: clientId, sub: c.sub, iat: now, exp: now + 300, nonce: c.nonce, sid: `sid-${c.sub}`, roles: ['doctor'] };
    if (c.defect === 'wrong_issuer') claims.iss = 'https://evil.example';
    if (c.defect === 'wrong_audience') claims.aud = 'another-client';
    if (c.defect === 'expired') Object.assign(claims, { iat: now - 3600, exp: now - 600 });
    if (c.defect === 'no_role') claims.roles = ['visitor'];
    if (c.defect === 'alg_none') return `${b64u(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64u(JSON.stringify(claims))}.`;
    return sign(claims, { key: c.defect === 'wrong_key' ? other.privateKey : privateKey });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url!, issuer);
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (url.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`,
        end_session_endpoint: `${issuer}/logout`, response_types_supported: ['code'], subject_types_supported: ['public'],
        // Advertising "none" must not make the relying party accept unsigned ID tokens.
        id_token_signing_alg_values_supported: ['RS256', 'none'], code_challenge_methods_supported: ['S256'],
      });
    }
    if (url.pathname === '/jwks') return json(200, { keys: [jwk] });
    if (url.pathname === '/authorize') {
      const code = randomBytes(16).toString('base64url');
      const p = url.searchParams;
      codes.set(code, { nonce: p.get('nonce')!, challenge: p.get('code_challenge')!, defect: (p.get('defect') as Defect) ?? 'none', sub: p.get('login_hint') ?? 'fake-user' });
      const back = new URL(p.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', p.get('state')!);
      return void res.writeHead(302, { location: back.href }).end();
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      let raw = '';
      for await (const chunk of req) raw += chunk;
      const form = new URLSearchParams(raw);
      const c = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      const verifier = form.get('code_verifier') ?? '';
      if (!c || form.get('client_secret') !== clientSecret || createHash('sha256').update(verifier).digest('base64url') !== c.challenge) {
        return json(400, { error: 'invalid_grant' });
      }
      return json(200, { access_token: randomBytes(16).toString('hex'), token_type: 'Bearer', expires_in: 300, id_token: await idToken(c) });
    }
    json(404, { error: 'not_found' });
  }

  const server = http.createServer((req, res) => void handle(req, res).catch((err) => res.writeHead(500).end(String(err))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer, clientId, clientSecret, key: privateKey, otherKey: other.privateKey, sign,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
