// The login transaction (state, nonce, PKCE verifier) lives in a short-lived cookie, encrypted and
// authenticated with the installation key (AES-256-GCM), HttpOnly, scoped to the OIDC paths.
import type { Context } from 'koa';
import type { Config } from '../../../core/config.ts';
import { open, seal } from '../../keystore/keystore.crypto.ts';

export const TX_COOKIE = 'pk_oidc_tx';
const TX_AAD = 'praxiskern:oidc-tx:v1';
const TX_PATH = '/api/v1/auth/oidc';
export const TX_TTL_SECONDS = 600;

export interface OidcTransaction {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** Unix seconds after which the transaction is void. */
  exp: number;
}

export function writeTransaction(ctx: Context, config: Config, appKey: Buffer, tx: OidcTransaction): void {
  const box = seal(appKey, Buffer.from(JSON.stringify(tx)), TX_AAD).toString('base64url');
  ctx.cookies.set(TX_COOKIE, box, { httpOnly: true, sameSite: 'lax', secure: config.secureCookies, path: TX_PATH, maxAge: TX_TTL_SECONDS * 1000, overwrite: true });
}

/** Reads and clears the transaction (single use); undefined when missing, forged or expired. */
export function takeTransaction(ctx: Context, config: Config, appKey: Buffer): OidcTransaction | undefined {
  const raw = ctx.cookies.get(TX_COOKIE);
  ctx.cookies.set(TX_COOKIE, null, { path: TX_PATH, secure: config.secureCookies, overwrite: true });
  if (!raw || raw.length > 4096) return undefined;
  try {
    const tx = JSON.parse(open(appKey, Buffer.from(raw, 'base64url'), TX_AAD).toString('utf8')) as OidcTransaction;
    if (typeof tx.exp !== 'number' || tx.exp < Date.now() / 1000) return undefined;
    if (![tx.state, tx.nonce, tx.codeVerifier].every((v) => typeof v === 'string' && v.length > 0)) return undefined;
    return tx;
  } catch {
    return undefined;
  }
}
