import { z } from 'zod';
import { defineRoute } from '../../http/route.ts';
import { assertNotLocked, clearFailures, recordFailure } from '../../core/rate-limit.ts';
import { auditStandalone } from '../audit/audit.service.ts';
import { AppError } from '../../core/errors.ts';
import { log } from '../../core/context.ts';
import type { Services } from '../../http/services.ts';
import { flag, ok } from '../../http/response.ts';

export const UNSEAL_LIMIT = { maxFailures: 5, windowSeconds: 900, lockSeconds: 300 };

/** Unseal with rate limiting and auditing (installation chain); shared by the web page and the admin socket. */
export async function unsealWithLimits(services: Services, passphrase: string, via: string): Promise<void> {
  const bucket = 'unseal';
  await assertNotLocked(services.db, bucket);
  try {
    await services.seal.unseal(services.db, passphrase);
  } catch (err) {
    if (err instanceof AppError && err.code === 'validation_failed') {
      await recordFailure(services.db, bucket, UNSEAL_LIMIT);
      services.metrics.logins.inc({ method: 'unseal', outcome: 'failure' });
      await auditStandalone(services.db, { action: 'seal.unseal', outcome: 'failure', organizationId: null, details: { via } });
    }
    if (err instanceof AppError && err.code === 'seal_kdf_rejected') await reportKdfRejected(services, 'seal.unseal', err, via);
    throw err;
  }
  await clearFailures(services.db, bucket);
  services.metrics.logins.inc({ method: 'unseal', outcome: 'success' });
  await auditStandalone(services.db, { action: 'seal.unseal', outcome: 'success', organizationId: null, details: { via } });
}

/** Logs and audits a refused derivation: weak stored parameters are a sign of tampering. */
async function reportKdfRejected(services: Services, action: string, err: AppError, via: string): Promise<void> {
  log().error({ action, via, reason: err.message }, 'refused to derive the key-encryption key: stored Argon2id parameters out of bounds');
  await auditStandalone(services.db, { action, outcome: 'failure', organizationId: null, details: { via, reason: 'kdf_rejected' } });
}

export const sealRoutes = [
  defineRoute({
    method: 'get', path: '/seal', access: 'public', whileSealed: true, tags: ['seal'],
    summary: 'Whether the server is sealed',
    response: ok(flag('sealed')),
    handler: async ({ services }) => ({ sealed: services.seal.isSealed }),
  }),
  defineRoute({
    method: 'post', path: '/seal/unseal', access: 'seal.unseal', whileSealed: true, tags: ['seal'],
    summary: 'Unseal with the practice passphrase (rate-limited)',
    response: ok(flag('sealed')),
    body: z.strictObject({ passphrase: z.string().min(1).max(1024) }),
    handler: async ({ services, body }) => {
      if (!services.seal.isSealed) return { sealed: false };
      await unsealWithLimits(services, body.passphrase, 'web');
      return { sealed: false };
    },
  }),
  defineRoute({
    method: 'post', path: '/seal/passphrase', access: 'seal.passphrase', tags: ['seal'],
    summary: 'Change the practice passphrase (re-wraps the master key; data is not re-encrypted)',
    response: ok(flag('changed')),
    body: z.strictObject({ currentPassphrase: z.string().min(1).max(1024), newPassphrase: z.string().min(12).max(1024) }),
    handler: async ({ services, body }) => {
      await assertNotLocked(services.db, 'unseal');
      try {
        await services.seal.changePassphrase(services.db, body.currentPassphrase, body.newPassphrase);
      } catch (err) {
        if (err instanceof AppError && err.code === 'validation_failed') await recordFailure(services.db, 'unseal', UNSEAL_LIMIT);
        if (err instanceof AppError && err.code === 'seal_kdf_rejected') await reportKdfRejected(services, 'seal.passphrase_changed', err, 'web');
        else await auditStandalone(services.db, { action: 'seal.passphrase_changed', outcome: 'failure', organizationId: null });
        throw err;
      }
      await auditStandalone(services.db, { action: 'seal.passphrase_changed', organizationId: null });
      return { changed: true };
    },
  }),
];
