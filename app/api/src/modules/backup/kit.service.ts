// The recovery kit: an offline age identity generated on the server, shown once (as a printable
// page, optionally split into Shamir shares for several custodians) and then forgotten; the server
// keeps only its recipient, to which every later backup is encrypted. The kit also carries the
// public backup signing key, so a new server can tell this installation's snapshots from planted ones.
// Created while the server is unsealed (setup), it also creates the drill key, so that the very first
// snapshot — even one taken by the sealed worker — is encrypted to it and the first drill can open it.
import { createHash } from 'node:crypto';
import { conflict, validation } from '../../core/errors.ts';
import type { Db } from '../../db/connection.ts';
import type { Services } from '../../http/services.ts';
import { auditStandalone } from '../audit/audit.service.ts';
import { generateIdentity, identityToRecipient } from './age/index.ts';
import { ensureDrillKey } from './backup-keys.service.ts';
import * as repo from './backup.repository.ts';
import { backupSigningKey } from './manifest-signature.ts';
import { renderKitPage } from './kit-page.ts';
import { combineShares, decodeShare, encodeShare, splitSecret } from './kit-shamir.ts';

export interface RecoveryKit {
  installationId: string;
  recipient: string;
  /** The public backup signing key (base64 SPKI) to verify snapshots with. */
  signer: string;
  createdAt: string;
  /** Present without shares; with shares only the shares hold the identity. */
  identity?: string;
  shares?: string[];
  html: string;
}

export interface KitOptions {
  shares?: { threshold: number; count: number };
  /** Replace an existing kit: later backups go to the new recipient only (old backups still need the old kit). */
  replace?: boolean;
  organization?: string | undefined;
  /** Language of the printable kit page. */
  locale?: 'de' | 'en' | undefined;
}

/** The group tag of a split: derived from the public recipient, so it reveals nothing about the identity. */
const groupOf = (recipient: string) => createHash('sha256').update(recipient).digest('hex').slice(0, 8);

export async function createRecoveryKit(services: Pick<Services, 'db' | 'seal' | 'appKey'>, opts: KitOptions = {}): Promise<RecoveryKit> {
  const db = services.db;
  const existing = (await repo.activeKeys(db)).filter((k) => k.kind === 'recovery');
  if (existing.length && !opts.replace) {
    throw conflict('a recovery kit exists already and is shown only once; create a new one with replace (old backups still need the old kit)');
  }
  const installation = await repo.installationInfo(db);
  if (!installation) throw validation('installation', 'Praxiskern is not set up yet');
  await ensureDrillKey(db, services.seal);
  const { identity, recipient } = generateIdentity();
  const signer = backupSigningKey(services.appKey).text;
  const createdAt = new Date().toISOString();
  let shares: string[] | undefined;
  if (opts.shares) shares = splitSecret(Buffer.from(identity), opts.shares.threshold, opts.shares.count, groupOf(recipient)).map(encodeShare);
  await db.transaction(async (trx) => {
    if (opts.replace) await repo.retireRecoveryKeys(trx as unknown as Db);
    await repo.insertKey(trx as unknown as Db, { recipient, kind: 'recovery', label: shares ? `recovery kit (${opts.shares!.threshold} of ${opts.shares!.count} shares)` : 'recovery kit' });
  });
  await auditStandalone(db, {
    action: 'backup.recovery_kit_created', objectType: 'backup_key', objectId: recipient, organizationId: null,
    details: { replaced: existing.length, shares: opts.shares ?? null },
  }).catch(() => undefined);
  const html = renderKitPage({
    installationId: installation.installationId, organization: opts.organization, createdAt, recipient, signer, locale: opts.locale,
    ...(shares ? { shares: { threshold: opts.shares!.threshold, count: opts.shares!.count, texts: shares } } : { identity }),
  });
  return { installationId: installation.installationId, recipient, signer, createdAt, ...(shares ? { shares } : { identity }), html };
}

/** Recovers the identity from k shares (for `praxiskern recovery-kit combine`). */
export function identityFromShares(texts: string[]): string {
  const shares = texts.map(decodeShare);
  const identity = combineShares(shares).toString('utf8');
  let recipient: string;
  try {
    recipient = identityToRecipient(identity);
  } catch {
    throw validation('shares', 'the shares do not combine to an age identity (shares of different kits, or too few)');
  }
  if (groupOf(recipient) !== shares[0].group) throw validation('shares', 'the combined identity does not match the shares\' kit');
  return identity;
}
