// Secrets generated on this machine once, stored mode 0600, never overwritten.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync, linkSync, unlinkSync } from 'node:fs';
import path from 'node:path';

/**
 * Reads the secret, or creates it once. Safe when several processes start at the same time (npm start
 * runs the API and the worker together): the value is written whole to a temporary file and linked
 * into place, which fails if another process was first; then that process's secret is used.
 */
export function readOrCreateSecret(file: string, make: () => string = () => randomBytes(32).toString('base64url')): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const value = make();
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, value + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600);
  try {
    linkSync(tmp, file);
    return value;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readFileSync(file, 'utf8').trim();
  } finally {
    unlinkSync(tmp);
  }
}

/** The installation's application key: encrypts TOTP secrets and signs OIDC transaction cookies. */
export function applicationKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const file = env.PRAXISKERN_APP_KEY_FILE || path.join(dataDir, 'secrets', 'app.key');
  const raw = readOrCreateSecret(file);
  const key = Buffer.from(raw, 'base64url');
  if (key.length !== 32) throw new Error(`${file} must hold 32 bytes in base64url`);
  return key;
}
