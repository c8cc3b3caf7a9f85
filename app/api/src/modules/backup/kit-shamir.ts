// Shamir's secret sharing over GF(2^8) (the AES field, x^8 + x^4 + x^3 + x + 1): a secret split into
// n shares of which any k recover it and k−1 reveal nothing. Byte-wise, with a fresh random
// polynomial of degree k−1 per byte. Shares are text a custodian can print or type:
//   PKS1-<k>-<x>-<group>-<hex payload>-<check>
// <group> ties shares of one split together; <check> (CRC-32) catches typing errors.
import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { validation } from '../../core/errors.ts';

const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x ^= (x << 1) ^ (x & 0x80 ? 0x11b : 0); // multiply by the generator 3
    x &= 0xff;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255];
}

export const gfMul = (a: number, b: number) => (a === 0 || b === 0 ? 0 : EXP[LOG[a] + LOG[b]]);
export const gfDiv = (a: number, b: number) => {
  if (b === 0) throw new RangeError('division by zero in GF(256)');
  return a === 0 ? 0 : EXP[LOG[a] + 255 - LOG[b]];
};

export interface Share {
  threshold: number;
  x: number;
  group: string;
  y: Buffer;
}

/** Splits `secret` into `count` shares, any `threshold` of which recover it (2 ≤ k ≤ n ≤ 255). */
export function splitSecret(secret: Buffer, threshold: number, count: number, group = createHash('sha256').update(randomBytes(16)).digest('hex').slice(0, 8)): Share[] {
  if (!Number.isInteger(threshold) || threshold < 2) throw validation('shares.threshold', 'must be at least 2');
  if (!Number.isInteger(count) || count < threshold || count > 255) throw validation('shares.count', `must be between the threshold (${threshold}) and 255`);
  const shares = Array.from({ length: count }, (_, i) => ({ threshold, x: i + 1, group, y: Buffer.alloc(secret.length) }));
  const coefficients = Buffer.alloc(threshold);
  for (let b = 0; b < secret.length; b++) {
    coefficients[0] = secret[b];
    randomBytes(threshold - 1).copy(coefficients, 1);
    for (const share of shares) {
      let y = 0; // Horner: ((a_{k-1} x + a_{k-2}) x + …) x + a_0
      for (let j = threshold - 1; j >= 0; j--) y = gfMul(y, share.x) ^ coefficients[j];
      share.y[b] = y;
    }
  }
  coefficients.fill(0);
  return shares;
}

/** Lagrange interpolation at x = 0 over the first `threshold` distinct shares. */
export function combineShares(shares: Share[]): Buffer {
  if (shares.length === 0) throw validation('shares', 'no shares given');
  const { threshold, group } = shares[0];
  const distinct = new Map<number, Share>();
  for (const s of shares) {
    if (s.group !== group || s.threshold !== threshold) throw validation('shares', 'the shares come from different splits');
    if (s.y.length !== shares[0].y.length) throw validation('shares', 'the shares have different lengths');
    distinct.set(s.x, s);
  }
  if (distinct.size < threshold) throw validation('shares', `${threshold} different shares are needed, got ${distinct.size}`);
  const used = [...distinct.values()].slice(0, threshold);
  const secret = Buffer.alloc(used[0].y.length);
  for (let i = 0; i < used.length; i++) {
    let basis = 1; // l_i(0) = Π_{j≠i} x_j / (x_j − x_i); subtraction is XOR
    for (let j = 0; j < used.length; j++) if (j !== i) basis = gfMul(basis, gfDiv(used[j].x, used[j].x ^ used[i].x));
    for (let b = 0; b < secret.length; b++) secret[b] ^= gfMul(used[i].y[b], basis);
  }
  return secret;
}

const check = (body: string) => (crc32(Buffer.from(body)) >>> 0).toString(16).padStart(8, '0').toUpperCase();

export function encodeShare(s: Share): string {
  const body = `PKS1-${s.threshold}-${s.x}-${s.group.toUpperCase()}-${s.y.toString('hex').toUpperCase()}`;
  return `${body}-${check(body)}`;
}

export function decodeShare(text: string): Share {
  const clean = text.replace(/\s+/g, '').toUpperCase();
  const m = /^(PKS1-(\d+)-(\d+)-([0-9A-F]{8})-([0-9A-F]+))-([0-9A-F]{8})$/.exec(clean);
  if (!m) throw validation('share', 'is not a Praxiskern recovery share (PKS1-…)');
  if (check(m[1]) !== m[6]) throw validation('share', `share ${m[3]} has a typing error (check digits do not match)`);
  if (m[5].length % 2) throw validation('share', 'payload has an odd number of hex digits');
  return { threshold: Number(m[2]), x: Number(m[3]), group: m[4].toLowerCase(), y: Buffer.from(m[5], 'hex') };
}
