// Strict, canonical base64 (RFC 4648 standard alphabet). Node's decoder is lenient (skips bad
// characters, accepts non-zero trailing bits), and the age spec requires rejecting all of that.

const UNPADDED = /^[A-Za-z0-9+/]*$/;
const PADDED = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Unpadded base64 as used in age headers; undefined unless `text` is the canonical encoding. */
export function decodeUnpadded(text: string): Buffer | undefined {
  if (!UNPADDED.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return encodeUnpadded(bytes) === text ? bytes : undefined;
}

export function encodeUnpadded(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64').replace(/=+$/, '');
}

/** Padded base64 as used in the ASCII armor; undefined unless `text` is the canonical encoding. */
export function decodePadded(text: string): Buffer | undefined {
  if (!PADDED.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}
