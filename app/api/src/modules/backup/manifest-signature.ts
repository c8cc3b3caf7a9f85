// Who made a snapshot. age authenticates content but not the sender: anyone who knows a public
// recipient and can write to a target could plant a snapshot. So every manifest is signed
// (Ed25519, over the bytes of manifest.json.age) with the installation's backup signing key, and
// verify, drill and restore accept only manifests signed by a key they trust.
//
// The signing key is derived from the application key (HKDF-SHA256, info below): every process
// that holds the app key — the worker that makes backups, the app, the CLI — signs without an
// unseal, and a restore that brings the app key back keeps signing with the same key. The
// recovery kit prints the public key (base64 SPKI, the body of a PEM "PUBLIC KEY"), which is what
// a new server, which has nothing else, verifies with (docs/backup-format.md).
import { createPrivateKey, createPublicKey, hkdfSync, sign, verify, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { validation } from '../../core/errors.ts';

const INFO = 'praxiskern:backup-signing:v1';
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
/** The comment line of an identity file (the recovery kit's) that names the signing key. */
export const SIGNER_COMMENT = 'praxiskern-backup-signer:';

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Base64 of the SPKI DER: "MCowBQYDK2VwAyEA…" (60 characters). */
  text: string;
}

export const signerText = (key: KeyObject) => key.export({ format: 'der', type: 'spki' }).toString('base64');

export function backupSigningKey(appKey: Buffer): SigningKey {
  const seed = Buffer.from(hkdfSync('sha256', appKey, Buffer.alloc(0), INFO, 32));
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, text: signerText(publicKey) };
}

/** A public signing key as the kit prints it (base64 SPKI) or as a PEM block. */
export function parseSigner(text: string, field = 'signer'): KeyObject {
  const body = text.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, '').replace(/\s+/g, '');
  try {
    if (!/^[A-Za-z0-9+/]+=*$/.test(body)) throw new Error('not base64');
    const key = createPublicKey({ key: Buffer.from(body, 'base64'), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('not Ed25519');
    return key;
  } catch {
    throw validation(field, 'is not a backup signing key (base64 "MCowBQYDK2VwAyEA…" as printed in the recovery kit)');
  }
}

export const signManifest = (key: SigningKey, manifestCiphertext: Buffer): Buffer => sign(null, manifestCiphertext, key.privateKey);

/** The first trusted key the signature verifies with, or undefined. */
export function signedBy(manifestCiphertext: Buffer, signature: Buffer, signers: KeyObject[]): KeyObject | undefined {
  if (signature.length !== 64) return undefined;
  return signers.find((k) => verify(null, manifestCiphertext, k, signature));
}

/** Signer keys named in an identity file's "# praxiskern-backup-signer: …" lines (age ignores comments). */
export async function signersInIdentityFile(file: string): Promise<string[]> {
  const out: string[] = [];
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    const m = new RegExp(`^#\\s*${SIGNER_COMMENT}\\s*(\\S+)\\s*$`).exec(line.trim());
    if (m) out.push(m[1]);
  }
  return out;
}

/** The keys a snapshot may be signed with: this installation's own and any given (from the recovery kit). */
export function trustedSigners(appKey: Buffer, given: string[] = []): KeyObject[] {
  const keys = [backupSigningKey(appKey).publicKey, ...given.map((g) => parseSigner(g, '--signer'))];
  const seen = new Set<string>();
  return keys.filter((k) => !seen.has(signerText(k)) && (seen.add(signerText(k)), true));
}
