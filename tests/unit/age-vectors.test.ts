import test from 'ava';
import { generateIdentity } from '../../app/api/src/modules/backup/age/index.ts';
import { loadVectors, runVector, type Vector } from '../helpers/age.ts';

const X25519_IDENTITY = /^AGE-SECRET-KEY-1[0-9A-Z]+$/;
const all = loadVectors();

/** A vector is for a recipient type we do not implement (scrypt, ML-KEM hybrid) if it offers no X25519 identity for one. */
const unsupported = (v: Vector) => !v.identities.some((id) => X25519_IDENTITY.test(id)) && (v.passphrases.length > 0 || v.identities.length > 0);
const applicable = all.filter((v) => !unsupported(v));

// Pinned so that a packaging change cannot make the suite silently run fewer vectors: if
// cctv-age gains vectors, look at them and update these numbers.
const EXPECTED_TOTAL = 143;
const EXPECTED_APPLICABLE = 100;

test('the applicable official age test vectors are all run', (t) => {
  t.is(all.length, EXPECTED_TOTAL);
  t.is(applicable.length, EXPECTED_APPLICABLE);
  const skipped = all.filter(unsupported);
  t.true(skipped.every((v) => v.name.includes('scrypt') || v.name.includes('hybrid')), 'only scrypt and hybrid vectors are skipped');
});

for (const vector of applicable) {
  const identities = vector.identities.filter((id) => X25519_IDENTITY.test(id));
  if (identities.length === 0) identities.push(generateIdentity().identity); // vectors that only test parsing
  test(`vector ${vector.name}: ${vector.expect}`, async (t) => {
    for (const pieces of ['whole', 'fragmented'] as const) {
      const result = await runVector(vector.file, vector.armored, identities, pieces);
      t.is(result.outcome, vector.expect, `${pieces}: ${result.message} ${vector.comment ?? ''}`);
      if (vector.expect === 'success' || vector.expect === 'payload failure') {
        t.is<string | undefined, string | undefined>(result.payloadSha256, vector.payloadSha256, `${pieces}: released plaintext`);
      }
    }
  });
}
