// Argon2id password hashes in PHC format. Unknown users are verified against a dummy hash so
// that "no such user" and "wrong password" take the same time.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { argon2id, type KdfParams } from '../keystore/keystore.crypto.ts';

/** OWASP's recommended minimum for Argon2id: 19 MiB, 2 passes, 1 lane. */
export const PASSWORD_KDF: KdfParams = { algorithm: 'argon2id', memoryKiB: 19456, passes: 2, parallelism: 1 };
export const MIN_PASSWORD_LENGTH = 12;

export async function hashPassword(password: string, p: KdfParams = PASSWORD_KDF): Promise<string> {
  const salt = randomBytes(16);
  const hash = await argon2id(password.normalize('NFC'), salt, p);
  return `$argon2id$v=19$m=${p.memoryKiB},t=${p.passes},p=${p.parallelism}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;
let dummy: Promise<string> | undefined;

export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
  const phc = stored ?? (await (dummy ??= hashPassword(randomBytes(16).toString('hex'))));
  const m = PHC.exec(phc);
  if (!m) return false;
  const expected = Buffer.from(m[5], 'base64url');
  const actual = await argon2id(password.normalize('NFC'), Buffer.from(m[4], 'base64url'), {
    algorithm: 'argon2id', memoryKiB: Number(m[1]), passes: Number(m[2]), parallelism: Number(m[3]),
  }, expected.length);
  return timingSafeEqual(actual, expected) && stored !== undefined && stored !== null;
}
