// Field encryption with the patient's data key (key store scope "patient"). Every encrypted
// column of the patient modules goes through these two functions, bound to its field name.
import type { Tx } from '../../db/connection.ts';
import { refId, type KeyStore, type KeyRef, type KeyRow } from '../keystore/data-keys.ts';
import { fieldAad, open, seal } from '../keystore/keystore.crypto.ts';

// One key look-up per patient and transaction: a record with many encrypted fields costs one key
// look-up, not one per field, and none when the patient row was read with its key row joined
// (rememberKey). Same format as KeyStore.encrypt/decrypt (field-bound AAD).
const txKeys = new WeakMap<Tx, Map<string, Buffer>>();
function txMap(trx: Tx): Map<string, Buffer> {
  let m = txKeys.get(trx);
  if (!m) txKeys.set(trx, (m = new Map()));
  return m;
}
async function keyFor(keys: KeyStore, trx: Tx, ref: KeyRef): Promise<Buffer> {
  const m = txMap(trx);
  let key = m.get(refId(ref));
  if (!key) m.set(refId(ref), (key = await keys.blobKey(trx, ref)));
  return key;
}

/** Takes the key row read in the same statement as the patient row (no further query for this transaction). */
export function rememberKey(keys: KeyStore, trx: Tx, ref: KeyRef, row: KeyRow): void {
  const m = txMap(trx);
  if (!m.has(refId(ref))) m.set(refId(ref), keys.unwrap(ref, row));
}
const aad = (ref: KeyRef, field: string) => fieldAad(ref.organizationId, ref.scope, ref.scopeId, field);

export const patientKey = (organizationId: string, patientId: string): KeyRef => ({ organizationId, scope: 'patient', scopeId: patientId });

/** The organization's blind-index key: random, wrapped by the master key like any data key. */
export const searchKey = (organizationId: string): KeyRef => ({ organizationId, scope: 'search_index', scopeId: organizationId });

export async function sealJson(keys: KeyStore, trx: Tx, ref: KeyRef, field: string, value: unknown): Promise<Buffer> {
  return seal(await keyFor(keys, trx, ref), Buffer.from(JSON.stringify(value), 'utf8'), aad(ref, field));
}

export async function openJson<T>(keys: KeyStore, trx: Tx, ref: KeyRef, field: string, box: Buffer): Promise<T> {
  return JSON.parse(open(await keyFor(keys, trx, ref), box, aad(ref, field)).toString('utf8')) as T;
}

export async function sealText(keys: KeyStore, trx: Tx, ref: KeyRef, field: string, value: string | null | undefined): Promise<Buffer | null> {
  return value === undefined || value === null ? null : seal(await keyFor(keys, trx, ref), Buffer.from(value, 'utf8'), aad(ref, field));
}

export async function openText(keys: KeyStore, trx: Tx, ref: KeyRef, field: string, box: Buffer | null): Promise<string | null> {
  return box ? open(await keyFor(keys, trx, ref), box, aad(ref, field)).toString('utf8') : null;
}
