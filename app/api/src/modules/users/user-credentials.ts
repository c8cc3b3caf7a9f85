// Credentials of a local account, always chosen by the person themselves (enrollment link or
// first-run setup): Argon2id password hash, TOTP secret (encrypted with the installation key,
// bound to the user id) and single-use recovery codes (stored as hashes, shown once).
import { validation } from '../../core/errors.ts';
import { seal as encrypt } from '../keystore/keystore.crypto.ts';
import { hashPassword, MIN_PASSWORD_LENGTH } from '../auth/password.ts';
import { hashRecoveryCode, newRecoveryCodes } from '../auth/totp.ts';
import { totpAad } from '../setup/setup.service.ts';

export interface LocalCredentials {
  columns: { password_hash: string; totp_secret: Buffer; totp_confirmed: boolean; recovery_codes: string[] };
  /** Shown once to the person who enrolled; never stored in plain form. */
  recoveryCodes: string[];
}

export function checkPasswordStrength(password: string, field = 'password'): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw validation(field, `must be at least ${MIN_PASSWORD_LENGTH} characters`);
}

export async function localCredentials(appKey: Buffer, userId: string, password: string, totpSecret: string): Promise<LocalCredentials> {
  checkPasswordStrength(password);
  const recoveryCodes = newRecoveryCodes();
  return {
    columns: {
      password_hash: await hashPassword(password),
      totp_secret: encrypt(appKey, Buffer.from(totpSecret), totpAad(userId)),
      totp_confirmed: true,
      recovery_codes: recoveryCodes.map(hashRecoveryCode),
    },
    recoveryCodes,
  };
}

/** The username is taken within the same organization (usernames are unique per organization). */
export function isUsernameTaken(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23505' && e.constraint === 'users_org_username_key';
}
