// Shamir secret sharing over GF(256) for the recovery kit.
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { combineShares, decodeShare, encodeShare, gfDiv, gfMul, splitSecret } from '../../app/api/src/modules/backup/kit-shamir.ts';
import { generateIdentity } from '../../app/api/src/modules/backup/age/index.ts';
import { identityFromShares } from '../../app/api/src/modules/backup/kit.service.ts';

test('GF(256) arithmetic: AES field facts, every non-zero element has an inverse', (t) => {
  t.is(gfMul(0x57, 0x83), 0xc1); // FIPS-197 §4.2 example
  t.is(gfMul(0x57, 0x13), 0xfe);
  for (let a = 1; a < 256; a++) {
    t.is(gfMul(a, gfDiv(1, a)), 1);
    t.is(gfDiv(gfMul(a, 0x1d), 0x1d), a);
  }
  t.is(gfMul(0, 7), 0);
  t.throws(() => gfDiv(5, 0));
});

test('any k of n shares recover the secret; every subset of size k works', (t) => {
  const secret = randomBytes(74);
  const shares = splitSecret(secret, 3, 5);
  for (let a = 0; a < 5; a++) for (let b = a + 1; b < 5; b++) for (let c = b + 1; c < 5; c++) {
    t.deepEqual(combineShares([shares[a], shares[b], shares[c]]), secret);
  }
  t.deepEqual(combineShares(shares), secret, 'more than k is fine');
});

test('k−1 shares fail loudly and reveal nothing: every secret byte is equally consistent with them', (t) => {
  const shares = splitSecret(Buffer.from([42]), 2, 2);
  t.throws(() => combineShares([shares[0]]), { message: /2 different shares are needed, got 1/ });
  t.throws(() => combineShares([shares[0], shares[0]]), { message: /got 1/ });
  // With one share of a 2-of-n split, for each candidate secret s there is exactly one line through
  // (0, s) and the share: the share alone is uniformly compatible with all 256 secrets.
  const counts = new Map<number, number>();
  for (let i = 0; i < 2000; i++) {
    const [s1] = splitSecret(Buffer.from([7]), 2, 3);
    counts.set(s1.y[0], (counts.get(s1.y[0]) ?? 0) + 1);
  }
  t.true(counts.size > 200, `share values spread over ${counts.size} of 256`);
});

test('share text: round trip, typing errors are caught, different splits do not mix', (t) => {
  const shares = splitSecret(Buffer.from('hello'), 2, 3);
  const text = encodeShare(shares[1]);
  t.regex(text, /^PKS1-2-2-[0-9A-F]{8}-[0-9A-F]+-[0-9A-F]{8}$/);
  t.deepEqual(decodeShare(` ${text.toLowerCase().replace(/(.{10})/g, '$1 ')}\n`), shares[1]);
  const typo = text.slice(0, 20) + (text[20] === 'A' ? 'B' : 'A') + text.slice(21);
  t.throws(() => decodeShare(typo), { message: /typing error/ });
  const other = splitSecret(Buffer.from('hello'), 2, 3);
  t.throws(() => combineShares([shares[0], other[1]]), { message: /different splits/ });
});

test('parameters are validated: 2 ≤ k ≤ n ≤ 255', (t) => {
  t.throws(() => splitSecret(Buffer.from('x'), 1, 3), { message: /at least 2/ });
  t.throws(() => splitSecret(Buffer.from('x'), 3, 2), { message: /between the threshold/ });
  t.throws(() => splitSecret(Buffer.from('x'), 2, 256), { message: /between the threshold/ });
});

test('an age identity split into shares comes back as the same identity', (t) => {
  const { identity, recipient } = generateIdentity();
  // The kit derives the group from the recipient; identityFromShares checks it.
  const shares = splitSecret(Buffer.from(identity), 2, 3, createGroup(recipient)).map(encodeShare);
  t.is(identityFromShares([shares[2], shares[0]]), identity);
  t.throws(() => identityFromShares([shares[0]]), { message: /2 different shares are needed/ });
});

const createGroup = (recipient: string) => createHash('sha256').update(recipient).digest('hex').slice(0, 8);
