// Credentials of a new local account: Argon2id password hash, TOTP secret (encrypted with the
// installation key, bound to the user id) and single-use recovery codes (stored as hashes).
import { validation } from '../../core/errors.ts';
import { seal as encrypt } from '../keystore/keystore.crypto.ts';
import { hashPassword, MIN_PASSWORD_LENGTH } from '../auth/password.ts';
import { hashRecoveryCode, newRecoveryCodes, newTotpSecret, otpauthUrl } from '../auth/totp.ts';
import { totpAad } from '../setup/setup.service.ts';

export interface LocalCredentials {
  columns: { password_hash: string; totp_secret: Buffer; totp_confirmed: boolean; recovery_codes: string[] };
  /** Shown once to whoever creates the account; never stored in plain form. */
  enrollment: { totpSecret: string; otpauthUrl: string; recoveryCodes: string[] };
}

export function checkPasswordStrength(password: string, field = 'password'): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw validation(field, `must be at least ${MIN_PASSWORD_LENGTH} characters`);
}

export async function newLocalCredentials(appKey: Buffer, userId: string, username: string, password: string, field = 'password'): Promise<LocalCredentials> {
  checkPasswordStrength(password, field);
  const totpSecret = newTotpSecret();
  const recoveryCodes = newRecoveryCodes();
  return {
    columns: {
      password_hash: await hashPassword(password),
      totp_secret: encrypt(appKey, Buffer.from(totpSecret), totpAad(userId)),
      totp_confirmed: true,
      recovery_codes: recoveryCodes.map(hashRecoveryCode),
    },
    enrollment: { totpSecret, otpauthUrl: otpauthUrl('Praxiskern', username, totpSecret), recoveryCodes },
  };
}

/** Maps the unique-username violation to a clear 409 naming the field. */
export function isUsernameTaken(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23505' && e.constraint === 'users_username_key';
}
