// The in-memory cache of unwrapped data keys: bounded, expiring, zeroing what it lets go.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { DataKeyCache } from '../../app/api/src/modules/keystore/key-cache.ts';
import { loadConfig } from '../../app/api/src/core/config.ts';

const wrapped = (n: number) => Buffer.from(`wrapped-${n}`);
const AAD = 'praxiskern:data-key:v1:org:patient:x';

test('a second read of the same wrapped key is served from the cache without unwrapping', (t) => {
  const cache = new DataKeyCache({ maxEntries: 10, ttlSeconds: 60 });
  let unwraps = 0;
  const key = randomBytes(32);
  const unwrap = () => (unwraps++, Buffer.from(key));
  t.deepEqual(cache.get('k1', AAD, wrapped(1), unwrap), key);
  t.deepEqual(cache.get('k1', AAD, wrapped(1), unwrap), key);
  t.is(unwraps, 1);
  t.like(cache.stats, { hits: 1, unwraps: 1 });
});

test('a different wrapped key or binding for the same key row is a miss (the cache never answers for bytes it did not unwrap)', (t) => {
  const cache = new DataKeyCache({ maxEntries: 10, ttlSeconds: 60 });
  let unwraps = 0;
  const unwrap = () => (unwraps++, randomBytes(32));
  cache.get('k1', AAD, wrapped(1), unwrap);
  cache.get('k1', AAD, wrapped(2), unwrap);
  cache.get('k1', `${AAD}-other`, wrapped(1), unwrap);
  t.is(unwraps, 3);
});

test('the cache holds at most maxEntries keys, drops the least recently used first and zeroes it', (t) => {
  const cache = new DataKeyCache({ maxEntries: 3, ttlSeconds: 60 });
  const held: Buffer[] = [];
  const unwrapTo = () => { const b = randomBytes(32); held.push(b); return b; };
  for (let i = 0; i < 3; i++) cache.get(`k${i}`, AAD, wrapped(i), unwrapTo);
  cache.get('k0', AAD, wrapped(0), unwrapTo); // k0 is now the most recent; k1 the least
  cache.get('k3', AAD, wrapped(3), unwrapTo);
  t.is(cache.size, 3);
  t.true(held[1].equals(Buffer.alloc(32)), 'the evicted key was zeroed');
  t.false(held[0].equals(Buffer.alloc(32)));
  let unwraps = 0;
  cache.get('k0', AAD, wrapped(0), () => (unwraps++, randomBytes(32)));
  cache.get('k1', AAD, wrapped(1), () => (unwraps++, randomBytes(32)));
  t.is(unwraps, 1, 'k0 stayed, k1 had to be unwrapped again');
});

test('a key expires after the TTL: it is zeroed by the sweep and unwrapped again on the next read', (t) => {
  let now = 1_000_000;
  const cache = new DataKeyCache({ maxEntries: 10, ttlSeconds: 5 }, () => now);
  const held = randomBytes(32);
  const copy = Buffer.from(held);
  t.deepEqual(cache.get('k1', AAD, wrapped(1), () => held), copy);
  now += 5_001;
  cache.sweep();
  t.is(cache.size, 0);
  t.true(held.equals(Buffer.alloc(32)));
  let unwraps = 0;
  cache.get('k1', AAD, wrapped(1), () => (unwraps++, randomBytes(32)));
  t.is(unwraps, 1);
});

test('forget(keyId) and clear() zero the held keys; callers keep their own copies', (t) => {
  const cache = new DataKeyCache({ maxEntries: 10, ttlSeconds: 60 });
  const a = randomBytes(32), b = randomBytes(32);
  const callerA = cache.get('a', AAD, wrapped(1), () => a);
  cache.get('b', AAD, wrapped(2), () => b);
  cache.forget('a');
  t.true(a.equals(Buffer.alloc(32)));
  t.false(callerA.equals(Buffer.alloc(32)), 'a request that holds the key is not corrupted mid-use');
  t.false(b.equals(Buffer.alloc(32)));
  cache.clear();
  t.true(b.equals(Buffer.alloc(32)));
  t.is(cache.size, 0);
});

test('0 entries or 0 seconds turn the cache off: every read unwraps', (t) => {
  for (const opts of [{ maxEntries: 0, ttlSeconds: 60 }, { maxEntries: 10, ttlSeconds: 0 }]) {
    const cache = new DataKeyCache(opts);
    let unwraps = 0;
    cache.get('k', AAD, wrapped(1), () => (unwraps++, randomBytes(32)));
    cache.get('k', AAD, wrapped(1), () => (unwraps++, randomBytes(32)));
    t.is(unwraps, 2);
    t.is(cache.size, 0);
  }
});

test('cache size and TTL come from PRAXISKERN_DATA_KEY_CACHE_ENTRIES and _TTL_SECONDS, with defaults 10000 and 300', (t) => {
  t.deepEqual(loadConfig({}).dataKeyCache, { maxEntries: 10_000, ttlSeconds: 300 });
  t.deepEqual(loadConfig({ PRAXISKERN_DATA_KEY_CACHE_ENTRIES: '50', PRAXISKERN_DATA_KEY_CACHE_TTL_SECONDS: '0' }).dataKeyCache, { maxEntries: 50, ttlSeconds: 0 });
  t.throws(() => loadConfig({ PRAXISKERN_DATA_KEY_CACHE_ENTRIES: 'many' }), { message: /PRAXISKERN_DATA_KEY_CACHE_ENTRIES/ });
});
