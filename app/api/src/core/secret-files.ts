// Secrets generated on this machine once, stored mode 0600, never overwritten.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import path from 'node:path';

export function readOrCreateSecret(file: string, make: () => string = () => randomBytes(32).toString('base64url')): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const value = make();
  writeFileSync(file, value + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return value;
}

/** The installation's application key: encrypts TOTP secrets and signs OIDC transaction cookies. */
export function applicationKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const file = env.PRAXISKERN_APP_KEY_FILE || path.join(dataDir, 'secrets', 'app.key');
  const raw = readOrCreateSecret(file);
  const key = Buffer.from(raw, 'base64url');
  if (key.length !== 32) throw new Error(`${file} must hold 32 bytes in base64url`);
  return key;
}
