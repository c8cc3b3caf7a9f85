import { createHash, randomBytes } from 'node:crypto';
import test from 'ava';
import { AgeError, type AgeErrorCode, decryptStream, encryptStream, generateIdentity } from '../../app/api/src/modules/backup/age/index.ts';
import { startEncryption } from '../../app/api/src/modules/backup/age/age-encrypt.service.ts';
import { collect, encryptBuffer, fragments, headerLength } from '../helpers/age.ts';

const alice = generateIdentity();
const bob = generateIdentity();
const KiB64 = 65536;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const chunkCount = (n: number) => Math.max(1, Math.ceil(n / KiB64));

async function decrypt(file: Buffer, identities: string[], pieces: 'whole' | 'fragmented' = 'whole') {
  return collect(pieces === 'whole' ? [file] : fragments(file), decryptStream(identities));
}

for (const size of [0, 1, 65535, 65536, 65537, 3 * 65536, 3_000_017]) {
  test(`a ${size}-byte payload round-trips, in 64 KiB chunks with one 16-byte tag each`, async (t) => {
    const plaintext = randomBytes(size);
    for (const pieces of ['whole', 'fragmented'] as const) {
      const file = await encryptBuffer(plaintext, [alice.recipient], pieces);
      t.is(file.length, headerLength(file) + 16 + size + 16 * chunkCount(size), `${pieces}: ciphertext size`);
      const { output, error } = await decrypt(file, [alice.identity], pieces);
      t.is(error, undefined);
      t.is(sha(output), sha(plaintext), pieces);
    }
  });
}

test('two encryptions of the same data differ (fresh file key, nonce and ephemeral share)', async (t) => {
  const plaintext = randomBytes(100);
  t.false((await encryptBuffer(plaintext, [alice.recipient])).equals(await encryptBuffer(plaintext, [alice.recipient])));
});

test('a file for several recipients opens with each identity alone', async (t) => {
  const carol = generateIdentity();
  const plaintext = randomBytes(70_000);
  const file = await encryptBuffer(plaintext, [alice.recipient, bob.recipient, carol.recipient]);
  t.is(file.toString('latin1', 0, headerLength(file)).match(/^-> X25519 /gm)?.length, 3);
  for (const who of [alice, bob, carol]) {
    const { output, error } = await decrypt(file, [who.identity]);
    t.is(error, undefined);
    t.true(output.equals(plaintext));
  }
});

test('an identity that does not match is skipped when another one matches', async (t) => {
  const file = await encryptBuffer(Buffer.from('hello'), [bob.recipient]);
  const { output, error } = await decrypt(file, [alice.identity, bob.identity]);
  t.is(error, undefined);
  t.is(output.toString(), 'hello');
});

test('the wrong key fails with "no identity matches any recipient stanza" and releases nothing', async (t) => {
  const file = await encryptBuffer(randomBytes(1000), [alice.recipient]);
  const { output, error } = await decrypt(file, [bob.identity]);
  t.true(error instanceof AgeError);
  t.is((error as AgeError).code, 'age_no_match');
  t.is((error as AgeError).message, 'no identity matches any recipient stanza');
  t.is(output.length, 0);
});

test('encryption and decryption need at least one key', (t) => {
  t.is(t.throws(() => encryptStream([]), { instanceOf: AgeError })?.code, 'age_invalid_key');
  t.is(t.throws(() => decryptStream([]), { instanceOf: AgeError })?.code, 'age_invalid_key');
});

// 3 full chunks and a 100-byte fourth one.
const plaintext = randomBytes(3 * KiB64 + 100);
const filePromise = encryptBuffer(plaintext, [alice.recipient]);
const payloadStart = async () => headerLength(await filePromise) + 16;

const damaged: Array<[string, (file: Buffer, start: number) => Buffer, RegExp, number]> = [
  ['cut inside the last chunk', (f) => f.subarray(0, f.length - 1), /^file is truncated or altered \(chunk 4 failed authentication\)$/, 3],
  ['cut inside the second chunk', (f, s) => f.subarray(0, s + KiB64 + 1000), /\(chunk 2 failed authentication\)$/, 1],
  ['cut after the second chunk', (f, s) => f.subarray(0, s + 2 * (KiB64 + 16)), /\(chunk 3 is missing\)$/, 2],
  ['a flipped bit in the second chunk', (f, s) => flip(f, s + KiB64 + 16 + 5), /\(chunk 2 failed authentication\)$/, 1],
  ['a flipped bit in a tag', (f, s) => flip(f, s + KiB64 + 3), /\(chunk 1 failed authentication\)$/, 0],
  ['a flipped bit in the payload nonce', (f, s) => flip(f, s - 3), /\(chunk 1 failed authentication\)$/, 0],
  ['garbage appended', (f) => Buffer.concat([f, Buffer.from('x')]), /\(chunk 4 failed authentication\)$/, 3],
  ['the last chunk dropped', (f, s) => f.subarray(0, s + 3 * (KiB64 + 16)), /\(chunk 4 is missing\)$/, 3],
];
for (const [what, damage, message, goodChunks] of damaged) {
  test(`a file with ${what} fails with a clear error and releases only authenticated chunks`, async (t) => {
    const file = damage(Buffer.from(await filePromise), await payloadStart());
    for (const pieces of ['whole', 'fragmented'] as const) {
      const { output, error } = await decrypt(file, [alice.identity], pieces);
      t.true(error instanceof AgeError, pieces);
      t.is((error as AgeError).code, 'age_payload_corrupt');
      t.regex((error as AgeError).message, message);
      t.true(output.equals(plaintext.subarray(0, goodChunks * KiB64)), `${pieces}: released ${output.length} bytes`);
    }
  });
}

function flip(file: Buffer, at: number): Buffer {
  file[at] ^= 0x01;
  return file;
}

test('an altered MAC or share, a cut header and a non-age file each fail with their own error', async (t) => {
  const file = Buffer.from(await filePromise);
  const share = file.indexOf('-> X25519 ') + 10;
  const stanza = file.toString('latin1', share, share + 43);
  const otherShare = stanza.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')); // another point: the key agreement fails
  const macAt = file.indexOf('\n--- ') + 5;
  const altered = Buffer.from(file);
  altered[macAt] = altered[macAt] === 0x41 ? 0x42 : 0x41;
  const cases: Array<[Buffer, AgeErrorCode, RegExp]> = [
    [altered, 'age_header_mac', /^file is truncated or altered \(header MAC does not match\)$/],
    [file.subarray(0, 40), 'age_invalid_header', /truncated/],
    [file.subarray(0, headerLength(file) + 10), 'age_invalid_header', /nonce/],
    [Buffer.from('PK\u0003\u0004 this is a zip file'), 'age_invalid_header', /not an age v1 file/],
    [Buffer.from(file.toString('latin1').replace(stanza, otherShare), 'latin1'), 'age_no_match', /no identity/],
  ];
  for (const [input, code, message] of cases) {
    const { output, error } = await decrypt(input, [alice.identity]);
    t.is((error as AgeError).code, code);
    t.regex((error as AgeError).message, message);
    t.is(output.length, 0);
  }
});

test('an empty final chunk after a full one is rejected, an empty payload is accepted', async (t) => {
  // Only the empty payload may end in an empty chunk: build a file whose payload is exactly one
  // full chunk plus an empty final chunk by hand, with the streaming primitives.
  const { preamble, chunks } = startEncryption([alice.recipient]);
  const full = randomBytes(KiB64);
  const bad = Buffer.concat([preamble, ...chunks.seal(full, false), ...chunks.seal(Buffer.alloc(0), true)]);
  const { output, error } = await decrypt(bad, [alice.identity]);
  t.regex((error as AgeError).message, /\(chunk 2 is an empty final chunk\)$/);
  t.true(output.equals(full));
  const empty = await decrypt(await encryptBuffer(Buffer.alloc(0), [alice.recipient]), [alice.identity]);
  t.is(empty.error, undefined);
  t.is(empty.output.length, 0);
});

for (const direction of ['encryptStream', 'decryptStream'] as const) {
  test(`${direction} applies backpressure: an unread stream stops accepting input`, async (t) => {
    const stream = direction === 'encryptStream' ? encryptStream([alice.recipient]) : decryptStream([alice.identity]);
    const input = direction === 'encryptStream' ? randomBytes(64 * KiB64) : await encryptBuffer(randomBytes(64 * KiB64), [alice.recipient]);
    let accepted = 0;
    for (const piece of fragments(input)) {
      accepted += piece.length;
      if (!stream.write(piece)) break;
    }
    t.true(accepted < 1 << 20, `accepted ${accepted} bytes without a reader`);
    stream.destroy();
  });
}
