import test from 'ava';
import { bech32Decode, bech32Encode } from '../../app/api/src/modules/backup/age/bech32.ts';
import {
  AgeError,
  generateIdentity,
  identityToRecipient,
  parseIdentity,
  parseRecipient,
} from '../../app/api/src/modules/backup/age/index.ts';

// Known answer: the identity of the official test vectors and its recipient as printed by `age-keygen -y`.
const IDENTITY = 'AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0';
const RECIPIENT = 'age1xmwwc06ly3ee5rytxm9mflaz2u56jjj36s0mypdrwsvlul66mv4q47ryef';

test('the recipient of a known identity is the one age-keygen prints', (t) => {
  t.is(identityToRecipient(IDENTITY), RECIPIENT);
});

test('generated identities are AGE-SECRET-KEY-1… and their recipient is derived from them', (t) => {
  const a = generateIdentity();
  const b = generateIdentity();
  t.regex(a.identity, /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/);
  t.regex(a.recipient, /^age1[02-9ac-hj-np-z]{58}$/);
  t.is(identityToRecipient(a.identity), a.recipient);
  t.not(a.identity, b.identity);
  t.is(parseRecipient(a.recipient).publicKey.length, 32);
});

test('bech32 round-trips and rejects a changed character, mixed case and a missing separator', (t) => {
  const data = Buffer.from('00ff10203040', 'hex');
  const text = bech32Encode('age', data);
  t.deepEqual(bech32Decode(text), { hrp: 'age', data });
  t.deepEqual(bech32Decode(text.toUpperCase())?.data, data);
  const flipped = text.slice(0, -1) + (text.endsWith('q') ? 'p' : 'q');
  t.is(bech32Decode(flipped), undefined);
  t.is(bech32Decode(text.slice(0, 5) + text.slice(5).toUpperCase()), undefined);
  t.is(bech32Decode('agexyz'), undefined);
});

test('bech32 accepts the BIP-173 valid examples and rejects an invalid checksum', (t) => {
  t.deepEqual(bech32Decode('A12UEL5L'), { hrp: 'a', data: Buffer.alloc(0) });
  t.truthy(bech32Decode('abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw'));
  t.is(bech32Decode('abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxx'), undefined);
});

const invalidKeys: Array<[string, () => unknown]> = [
  ['an identity given as recipient', () => parseRecipient(IDENTITY)],
  ['an upper-case recipient', () => parseRecipient(RECIPIENT.toUpperCase())],
  ['a recipient with a broken checksum', () => parseRecipient(RECIPIENT.slice(0, -1) + 'q')],
  ['a recipient of the wrong length', () => parseRecipient(bech32Encode('age', Buffer.alloc(31, 1)))],
  ['a recipient given as identity', () => parseIdentity(RECIPIENT)],
  ['a lower-case identity', () => parseIdentity(IDENTITY.toLowerCase())],
  ['an ssh key', () => parseRecipient('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG')],
];
for (const [what, parse] of invalidKeys) {
  test(`rejects ${what} with age_invalid_key`, (t) => {
    const err = t.throws(parse, { instanceOf: AgeError });
    t.is(err?.code, 'age_invalid_key');
    t.regex(err?.message ?? '', /^invalid age key: /);
  });
}
