// Byte compatibility with the reference implementations: the age CLI (Go) and the age-encryption
// npm package (typage). Files go both ways, keys from either side work on the other.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { Decrypter, Encrypter, generateX25519Identity, identityToRecipient as typageRecipient } from 'age-encryption';
import { AgeError, decryptFile, encryptFile, generateIdentity, readIdentityFile } from '../../app/api/src/modules/backup/age/index.ts';

const run = promisify(execFile);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const SIZES = [0, 1, 65535, 65536, 65537, 3 * 65536, 4 * 1024 * 1024 + 3];

let dir: string;
const ours = generateIdentity();
let cli: { identity: string; recipient: string; keyFile: string };
const ourKeyFile = () => join(dir, 'ours.key');

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'age-interop-'));
  await writeFile(ourKeyFile(), `# created by our generateIdentity\n${ours.identity}\n`, { mode: 0o600 });
  const keyFile = join(dir, 'cli.key');
  await run('age-keygen', ['-o', keyFile]);
  const [identity] = await readIdentityFile(keyFile);
  cli = { identity, recipient: (await run('age-keygen', ['-y', keyFile])).stdout.trim(), keyFile };
});
test.after.always(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `age -d` to stdout (with -o, the CLI creates no file for an empty plaintext). */
async function ageDecrypt(keyFile: string, file: string): Promise<Buffer> {
  return (await run('age', ['-d', '-i', keyFile, file], { encoding: 'buffer', maxBuffer: 64 << 20 })).stdout;
}

async function plaintextFile(name: string, size: number) {
  const data = randomBytes(size);
  const path = join(dir, name);
  await writeFile(path, data);
  return { data, path };
}

for (const size of SIZES) {
  test(`${size} bytes: our file decrypts with the age CLI and with age-encryption`, async (t) => {
    const { data, path } = await plaintextFile(`ours-${size}`, size);
    await encryptFile(path, `${path}.age`, [ours.recipient]);
    t.is(sha(await ageDecrypt(ourKeyFile(), `${path}.age`)), sha(data), 'age CLI');
    const decrypter = new Decrypter();
    decrypter.addIdentity(ours.identity);
    t.is(sha(await decrypter.decrypt(await readFile(`${path}.age`))), sha(data), 'age-encryption');
  });

  test(`${size} bytes: files of the age CLI and of age-encryption decrypt with ours`, async (t) => {
    const { data, path } = await plaintextFile(`theirs-${size}`, size);
    await run('age', ['-r', ours.recipient, '-o', `${path}.cli.age`, path]);
    await decryptFile(`${path}.cli.age`, `${path}.cli`, [ours.identity]);
    t.is(sha(await readFile(`${path}.cli`)), sha(data), 'from age CLI');
    const encrypter = new Encrypter();
    encrypter.addRecipient(ours.recipient);
    await writeFile(`${path}.typage.age`, await encrypter.encrypt(data));
    await decryptFile(`${path}.typage.age`, `${path}.typage`, [ours.identity]);
    t.is(sha(await readFile(`${path}.typage`)), sha(data), 'from age-encryption');
  });
}

test('keys interoperate: a file for our, the CLI\'s and typage\'s recipients opens with each identity', async (t) => {
  const typageIdentity = await generateX25519Identity();
  const recipients = [ours.recipient, cli.recipient, await typageRecipient(typageIdentity)];
  const { data, path } = await plaintextFile('multi', 200_000);
  await encryptFile(path, `${path}.age`, recipients);
  t.true((await ageDecrypt(cli.keyFile, `${path}.age`)).equals(data), 'age CLI with its own key');
  await decryptFile(`${path}.age`, `${path}.ours`, [cli.identity]);
  t.true((await readFile(`${path}.ours`)).equals(data), 'ours with the CLI key');
  const decrypter = new Decrypter();
  decrypter.addIdentity(typageIdentity);
  t.true(Buffer.from(await decrypter.decrypt(await readFile(`${path}.age`))).equals(data), 'age-encryption with its own key');
});

test('a truncated or bit-flipped file fails with the clear error, and no output file is left', async (t) => {
  const { path } = await plaintextFile('damaged', 300_000);
  await encryptFile(path, `${path}.age`, [ours.recipient]);
  const file = await readFile(`${path}.age`);
  const flipped = Buffer.from(file);
  flipped[file.length - 70_000] ^= 0x80;
  const cases: Array<[string, Buffer, RegExp]> = [
    ['truncated', file.subarray(0, file.length - 1000), /^file is truncated or altered \(chunk 5 failed authentication\)$/],
    ['bit-flipped', flipped, /^file is truncated or altered \(chunk 4 failed authentication\)$/],
  ];
  for (const [what, bytes, message] of cases) {
    await writeFile(`${path}.${what}.age`, bytes);
    const err = await t.throwsAsync(decryptFile(`${path}.${what}.age`, `${path}.${what}`, [ours.identity]), { instanceOf: AgeError });
    t.regex(err?.message ?? '', message, what);
    await t.throwsAsync(stat(`${path}.${what}`), { code: 'ENOENT' }, `${what}: partial plaintext removed`);
    // The reference implementation agrees that the file is broken.
    await t.throwsAsync(ageDecrypt(ourKeyFile(), `${path}.${what}.age`));
  }
});

test('the wrong key fails with "no identity matches any recipient stanza"', async (t) => {
  const { path } = await plaintextFile('wrong-key', 10);
  await run('age', ['-r', cli.recipient, '-o', `${path}.age`, path]);
  const err = await t.throwsAsync(decryptFile(`${path}.age`, `${path}.out`, [ours.identity]), { instanceOf: AgeError });
  t.is(err?.message, 'no identity matches any recipient stanza');
});
