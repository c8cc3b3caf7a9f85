// Who can decrypt a backup: the offline recovery recipients (recovery kit, PRAXISKERN_BACKUP_RECIPIENTS;
// their identities never touch the server) and the on-server drill key, whose identity is stored
// wrapped by the master key (AES-256-GCM) and so is usable only while the server is unsealed.
import { AppError } from '../../core/errors.ts';
import type { Db } from '../../db/connection.ts';
import type { SealService } from '../keystore/seal.service.ts';
import { open, seal } from '../keystore/keystore.crypto.ts';
import { generateIdentity, identityToRecipient } from './age/index.ts';
import { activeKeys, insertKey } from './backup.repository.ts';

const DRILL_AAD = 'praxiskern:backup-drill-identity:v1';

export interface Recipients {
  /** Everything a snapshot is encrypted to. */
  all: string[];
  offline: string[];
  drill: string | undefined;
}

export const noRecoveryRecipient = () =>
  new AppError(409, 'backup_no_recipient', 'no offline recovery key is configured: run "praxiskern recovery-kit" or set PRAXISKERN_BACKUP_RECIPIENTS');

/** The drill key's recipient; creates the key on first use when the server is unsealed. */
export async function ensureDrillKey(db: Db, sealService: SealService): Promise<string | undefined> {
  const existing = (await activeKeys(db)).find((k) => k.kind === 'drill');
  if (existing) return existing.recipient;
  if (sealService.isSealed) return undefined;
  const { identity, recipient } = generateIdentity();
  const wrapped = seal(sealService.masterKey(), Buffer.from(identity, 'utf8'), DRILL_AAD);
  await insertKey(db, { recipient, kind: 'drill', wrappedIdentity: wrapped, label: 'on-server restore drill key' });
  return recipient;
}

export async function backupRecipients(db: Db, sealService: SealService, fromEnv: string[]): Promise<Recipients> {
  const keys = await activeKeys(db);
  const offline = [...new Set([...fromEnv, ...keys.filter((k) => k.kind === 'recovery').map((k) => k.recipient)])];
  if (offline.length === 0) throw noRecoveryRecipient();
  const drill = await ensureDrillKey(db, sealService);
  return { all: drill ? [...offline, drill] : offline, offline, drill };
}

/** The drill identity (AGE-SECRET-KEY-1…); 503 while sealed. */
export async function drillIdentity(db: Db, sealService: SealService): Promise<string> {
  const row = (await activeKeys(db)).find((k) => k.kind === 'drill');
  if (!row?.wrapped_identity) throw new AppError(409, 'backup_no_drill_key', 'there is no drill key yet: it is created by the first backup while the server is unsealed');
  const identity = open(sealService.masterKey(), row.wrapped_identity, DRILL_AAD).toString('utf8');
  if (identityToRecipient(identity) !== row.recipient) throw new AppError(500, 'backup_drill_key_mismatch', 'the stored drill key does not match its recipient');
  return identity;
}
