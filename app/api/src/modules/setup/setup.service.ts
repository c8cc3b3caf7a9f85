// First-run setup: organization, first administrator (password + TOTP, and installation operator),
// practice passphrase.
// The same function serves the web setup page and the unattended `praxiskern init`.
import type { Services } from '../../http/services.ts';
import { withScope } from '../../db/connection.ts';
import { conflict, validation } from '../../core/errors.ts';
import { seal as encrypt } from '../keystore/keystore.crypto.ts';
import { hashPassword, MIN_PASSWORD_LENGTH } from '../auth/password.ts';
import { hashRecoveryCode, newRecoveryCodes, verifyTotp } from '../auth/totp.ts';
import { insertUser } from '../users/user.repository.ts';
import { audit } from '../audit/audit.service.ts';
import { grantFirstOperator } from '../installation/operator.service.ts';
import { lockInstallation, markInitialized } from './setup.repository.ts';
import { randomUUID } from 'node:crypto';

export interface SetupInput {
  organizationName: string;
  organizationSlug: string;
  adminUsername: string;
  adminDisplayName: string;
  adminEmail?: string;
  adminPassword: string;
  passphrase: string;
  totpSecret: string;
  /** Required from the web page (proves the authenticator works); the CLI passes none. */
  totpCode?: string;
  locale?: 'de' | 'en';
}

export interface SetupResult {
  organizationId: string;
  userId: string;
  installationId: string;
  recoveryCodes: string[];
}

export const totpAad = (userId: string) => `praxiskern:totp:v1:${userId}`;

export async function runSetup(services: Services, input: SetupInput): Promise<SetupResult> {
  if (input.adminPassword.length < MIN_PASSWORD_LENGTH) throw validation('adminPassword', `must be at least ${MIN_PASSWORD_LENGTH} characters`);
  if (input.adminPassword === input.passphrase) throw validation('passphrase', 'must differ from the administrator password');
  if (input.totpCode !== undefined && verifyTotp(input.totpSecret, input.totpCode) === undefined) {
    throw validation('totpCode', 'does not match the authenticator secret; check the device clock');
  }
  const passwordHash = await hashPassword(input.adminPassword);
  const recoveryCodes = newRecoveryCodes();
  const organizationId = randomUUID();
  const userId = randomUUID();
  const wasSealed = services.seal.isSealed;
  try {
  return await withScope(services.db, { organizationId, userId }, async (trx) => {
    const inst = await lockInstallation(trx);
    if (inst.initialized) throw conflict('Praxiskern is already set up');
    await trx('organizations').insert({ id: organizationId, name: input.organizationName, slug: input.organizationSlug });
    await insertUser(trx, {
      id: userId,
      organization_id: organizationId,
      username: input.adminUsername.toLowerCase(),
      display_name: input.adminDisplayName,
      email: input.adminEmail ?? null,
      password_hash: passwordHash,
      totp_secret: encrypt(services.appKey, Buffer.from(input.totpSecret), totpAad(userId)),
      totp_confirmed: true,
      recovery_codes: recoveryCodes.map(hashRecoveryCode),
      roles: ['admin'],
      locale: input.locale ?? 'de',
    });
    await services.seal.initialize(trx, input.passphrase);
    await markInitialized(trx);
    await audit(trx, { action: 'setup.completed', objectType: 'organization', objectId: organizationId, organizationId, actorUserId: userId });
    await grantFirstOperator(trx, userId);
    return { organizationId, userId, installationId: inst.installationId, recoveryCodes };
  });
  } catch (err) {
    // The transaction rolled back: forget a master key that was never stored.
    if (wasSealed) services.seal.seal();
    throw err;
  }
}
