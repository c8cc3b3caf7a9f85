// The calendar feed's secret never lands in a log: the app's log at debug level records the route
// template of GET /ical/feed.ics, not its query string; the metrics carry the template too.
import test from 'ava';
import { pino } from 'pino';
import { rootLogger } from '../../app/api/src/core/logger.ts';
import { startTestApp, setupInstance, type TestApp } from '../helpers/app.ts';

let app: TestApp;
const captured: string[] = [];

test.before(async () => {
  app = await startTestApp({ LOG_LEVEL: 'debug' });
  const stream = (rootLogger as unknown as Record<symbol, { write(s: string): boolean }>)[pino.symbols.streamSym];
  stream.write = (line: string) => {
    captured.push(line);
    return true;
  };
});
test.after.always(async () => {
  await app?.stop();
  await app?.db.drop();
});

test('fetching and enabling a feed leaves its token in no log line and no metric', async (t) => {
  const { client: admin } = await setupInstance(app);
  const doctor = (await admin.post('/api/v1/appointments/resources', { kind: 'practitioner', name: 'Dr. Logfrei' })).body.resource;
  const before = captured.length;
  const url = new URL((await admin.post(`/api/v1/appointments/resources/${doctor.id}/feed`)).body.url);
  const token = url.searchParams.get('token')!;
  t.is((await fetch(app.url + url.pathname + url.search)).status, 200);
  t.is((await fetch(`${app.url}/ical/feed.ics?token=${'x'.repeat(43)}`)).status, 404);
  const log = captured.slice(before).join('');
  t.regex(log, /"route":"\/ical\/feed\.ics"/, 'the feed request is logged by its route');
  t.false(log.includes(token), 'the token is not in the app log');
  const metrics = await (await fetch(app.metricsUrl)).text();
  t.regex(metrics, /route="\/ical\/feed\.ics"/);
  t.false(metrics.includes(token), 'the token is not in the metrics');
});
