// X25519 recipients and identities (age1… / AGE-SECRET-KEY-1…) and their header stanzas.
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { deriveKey, open, seal } from './aead.ts';
import { invalidHeader, invalidKey } from './age.errors.ts';
import { decodeUnpadded, encodeUnpadded } from './base64.ts';
import { bech32Decode, bech32Encode } from './bech32.ts';

export interface Stanza {
  type: string;
  args: string[];
  body: Buffer;
}
export interface X25519Recipient {
  publicKey: Buffer;
  key: KeyObject;
}
export interface X25519Identity {
  publicKey: Buffer;
  key: KeyObject;
}

const RECIPIENT_HRP = 'age';
const IDENTITY_HRP = 'age-secret-key-';
const WRAP_INFO = 'age-encryption.org/v1/X25519';
const ZERO_NONCE = Buffer.alloc(12);
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

const rawPublic = (key: KeyObject) => Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url');
const publicKeyObject = (raw: Uint8Array) =>
  createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });

export function parseRecipient(text: string): X25519Recipient {
  const decoded = bech32Decode(text);
  if (!decoded || decoded.hrp !== RECIPIENT_HRP || text !== text.toLowerCase()) {
    throw invalidKey(`"${text.slice(0, 12)}…" is not an age1… X25519 recipient`);
  }
  if (decoded.data.length !== 32) throw invalidKey('an X25519 recipient is 32 bytes');
  return { publicKey: decoded.data, key: publicKeyObject(decoded.data) };
}

export function parseIdentity(text: string): X25519Identity {
  const decoded = bech32Decode(text);
  if (!decoded || decoded.hrp !== IDENTITY_HRP || text !== text.toUpperCase()) {
    throw invalidKey('not an AGE-SECRET-KEY-1… X25519 identity');
  }
  if (decoded.data.length !== 32) throw invalidKey('an X25519 identity is 32 bytes');
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, decoded.data]), format: 'der', type: 'pkcs8' });
  return { publicKey: rawPublic(key), key };
}

export function generateIdentity(): { identity: string; recipient: string } {
  const { privateKey } = generateKeyPairSync('x25519');
  const secret = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  return {
    identity: bech32Encode(IDENTITY_HRP, secret).toUpperCase(),
    recipient: bech32Encode(RECIPIENT_HRP, rawPublic(privateKey)),
  };
}

export const identityToRecipient = (identity: string) => bech32Encode(RECIPIENT_HRP, parseIdentity(identity).publicKey);

function sharedSecret(privateKey: KeyObject, share: Buffer): Buffer {
  try {
    return diffieHellman({ privateKey, publicKey: publicKeyObject(share) });
  } catch {
    // OpenSSL refuses the all-zero shared secret of low-order points, which the spec forbids too.
    throw invalidHeader('X25519 share is a low-order point');
  }
}

/** Wraps the file key to one recipient with a fresh ephemeral key. */
export function wrapFileKey(recipient: X25519Recipient, fileKey: Buffer): Stanza {
  const { privateKey } = generateKeyPairSync('x25519');
  const share = rawPublic(privateKey);
  const wrapKey = deriveKey(sharedSecret(privateKey, recipient.publicKey), Buffer.concat([share, recipient.publicKey]), WRAP_INFO);
  return { type: 'X25519', args: [encodeUnpadded(share)], body: Buffer.concat(seal(wrapKey, ZERO_NONCE, fileKey)) };
}

function checkStanza(stanza: Stanza): Buffer {
  if (stanza.args.length !== 1) throw invalidHeader('X25519 stanza must have exactly one argument');
  const share = decodeUnpadded(stanza.args[0]);
  if (!share || share.length !== 32) throw invalidHeader('X25519 share must be 32 bytes of canonical base64');
  if (stanza.body.length !== 32) throw invalidHeader('X25519 stanza body must be a 16-byte file key and its tag');
  return share;
}

/** Returns the file key if one identity opens one X25519 stanza; throws on malformed X25519 stanzas. */
export function unwrapFileKey(identities: X25519Identity[], stanzas: Stanza[]): Buffer | undefined {
  for (const identity of identities) {
    for (const stanza of stanzas) {
      if (stanza.type !== 'X25519') continue;
      const share = checkStanza(stanza);
      const salt = Buffer.concat([share, identity.publicKey]);
      const fileKey = open(deriveKey(sharedSecret(identity.key, share), salt, WRAP_INFO), ZERO_NONCE, stanza.body);
      if (fileKey) return fileKey;
    }
  }
  return undefined;
}
