// The flight-status client against a local AviationStack-compatible server on loopback: what a
// request carries (flight number, date, key — nothing else), the answer mapped (delay in minutes),
// a wrong flight number → a clear message, a timeout, the circuit breaker opening after repeated
// failures and closing again once the service answers, the cache per flight and date.
import test from 'ava';
import { FlightStatusClient, FlightStatusError } from '../../app/api/src/modules/travel/flight-status.client.ts';
import { normalizeFlightNumber } from '../../app/api/src/modules/travel/travel.schema.ts';
import { startFakeAviationStack, type FakeAviationStack } from '../helpers/fake-aviationstack.ts';

let fake: FakeAviationStack;
test.before(async () => {
  fake = await startFakeAviationStack();
  fake.flights.push({ flightIata: 'LH631', date: '2026-12-03', status: 'active', scheduled: '2026-12-03T13:20:00+00:00', estimated: '2026-12-03T13:45:00+00:00' });
  fake.flights.push({ flightIata: 'EK45', date: '2026-12-04', status: 'landed', scheduled: '2026-12-04T12:00:00+00:00', estimated: '2026-12-04T12:30:00+00:00', actual: '2026-12-04T11:50:00+00:00' });
});
test.after.always(async () => { await fake?.close(); });

const client = (o: Partial<ConstructorParameters<typeof FlightStatusClient>[0]> = {}) => new FlightStatusClient({ baseUrl: fake.url, accessKey: fake.accessKey, timeoutMs: 1000, ...o });

async function failure(p: Promise<unknown>): Promise<FlightStatusError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof FlightStatusError)) throw new Error(`expected a FlightStatusError, got ${String(err)}`);
  return err;
}

test.serial('flight numbers are read in IATA form with or without the space', (t) => {
  t.is(normalizeFlightNumber('LH 1234'), 'LH1234');
  t.is(normalizeFlightNumber('lh1234'), 'LH1234');
  t.is(normalizeFlightNumber('U2 8123'), 'U28123');
  t.is(normalizeFlightNumber('4U 123A'), '4U123A');
  for (const bad of ['L 1234', '11 234', 'LH12345', '12 345', 'LH', 'LH 12 34', 'LH-1234', '']) t.is(normalizeFlightNumber(bad), undefined, bad);
});

test.serial('a request carries only the flight number, the date and the access key; the answer gives the arrival and the delay', async (t) => {
  fake.mode = 'ok';
  fake.requests.length = 0;
  const r = await client().lookup('LH631', '2026-12-03');
  t.deepEqual(r, { flightIata: 'LH631', flightDate: '2026-12-03', status: 'active', scheduledArrival: '2026-12-03T13:20:00.000Z', arrival: '2026-12-03T13:45:00.000Z', delayMinutes: 25 });
  t.is(fake.requests.length, 1);
  const req = fake.requests[0];
  t.is(req.method, 'GET');
  t.is(req.path, '/v1/flights');
  t.deepEqual(Object.keys(req.query).sort(), ['access_key', 'flight_date', 'flight_iata']);
  t.deepEqual(req.query, { access_key: fake.accessKey, flight_iata: 'LH631', flight_date: '2026-12-03' });
  t.is(req.body, '');
  t.deepEqual(Object.keys(req.headers).filter((h) => !['host', 'accept', 'connection', 'user-agent', 'accept-encoding', 'accept-language', 'sec-fetch-mode'].includes(h)), []);
  const landed = await client().lookup('EK45', '2026-12-04');
  t.is(landed.arrival, '2026-12-04T11:50:00.000Z', 'the actual arrival wins over the estimate');
  t.is(landed.delayMinutes, -10);
});

test.serial('a wrong flight number or date is a clear "not found", and a wrong key is "rejected" without echoing it', async (t) => {
  fake.mode = 'ok';
  const notFound = await failure(client().lookup('LH9999', '2026-12-03'));
  t.is(notFound.code, 'not_found');
  t.regex(notFound.message, /No flight LH9999 on 2026-12-03/);
  const wrongDay = await failure(client().lookup('LH631', '2026-12-05'));
  t.is(wrongDay.code, 'not_found');
  const badKey = await failure(client({ accessKey: 'wrong-key-123' }).lookup('LH631', '2026-12-03'));
  t.is(badKey.code, 'rejected');
  t.regex(badKey.message, /invalid_access_key/);
  t.false(badKey.message.includes('wrong-key-123'));
});

test.serial('a slow service times out', async (t) => {
  fake.mode = 'slow';
  fake.delayMs = 1500;
  const started = Date.now();
  const err = await failure(client({ timeoutMs: 200 }).lookup('LH631', '2026-12-03'));
  t.log(`timed out after ${Date.now() - started} ms`);
  t.is(err.code, 'timeout');
  t.true(err.retryable);
  fake.mode = 'ok';
});

test.serial('the breaker opens after repeated failures (no further calls) and closes again once the service answers', async (t) => {
  const c = client({ breakerFailures: 3, halfOpenAfterMs: 400 });
  fake.mode = 'down';
  for (let i = 0; i < 3; i++) t.is((await failure(c.lookup('LH631', '2026-12-03'))).code, 'unavailable');
  t.is(c.calls, 3);
  const open = await failure(c.lookup('LH631', '2026-12-03'));
  t.is(open.code, 'circuit_open');
  t.is(c.calls, 3, 'an open breaker makes no call');
  fake.mode = 'ok';
  t.is((await failure(c.lookup('LH631', '2026-12-03'))).code, 'circuit_open', 'still open before half-open time');
  await new Promise((r) => setTimeout(r, 500));
  const r = await c.lookup('LH631', '2026-12-03');
  t.is(r.delayMinutes, 25);
  t.is(c.calls, 4);
  t.is((await c.lookup('EK45', '2026-12-04')).status, 'landed', 'closed again');
  // a refused request (not found) does not count against the breaker
  for (let i = 0; i < 5; i++) t.is((await failure(c.lookup('XX1', '2026-12-03'))).code, 'not_found');
  t.is((await c.lookup('LH631', '2026-12-06').catch((e: FlightStatusError) => e.code)), 'not_found');
});

test.serial('answers are cached per flight and date until the TTL passes', async (t) => {
  fake.mode = 'ok';
  let now = 1_000_000;
  const c = client({ cacheTtlMs: 60_000, now: () => now });
  await c.lookup('LH631', '2026-12-03');
  await c.lookup('LH631', '2026-12-03');
  t.is(c.calls, 1);
  await c.lookup('EK45', '2026-12-04');
  t.is(c.calls, 2, 'another flight is another entry');
  now += 61_000;
  await c.lookup('LH631', '2026-12-03');
  t.is(c.calls, 3, 'refreshed after the TTL');
});

test.serial('an unreachable service is "unavailable"', async (t) => {
  const err = await failure(new FlightStatusClient({ baseUrl: 'http://127.0.0.1:9/v1', accessKey: 'k', timeoutMs: 1000 }).lookup('LH631', '2026-12-03'));
  t.is(err.code, 'unavailable');
});
