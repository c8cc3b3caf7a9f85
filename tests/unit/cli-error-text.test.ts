// The CLI's last words: one line with a reason for every shape a failure can take, never "undefined".
import test from 'ava';
import { errorText } from '../../appliance/src/error-text.ts';
import { embeddedStartError } from '../../app/api/src/db/embedded.ts';

test('every thrown shape becomes a one-line reason', (t) => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:54329'), { code: 'ECONNREFUSED' });
  t.is(errorText(new AggregateError([refused, refused], '')), 'connect ECONNREFUSED 127.0.0.1:54329');
  t.is(errorText(Object.assign(new Error(''), { code: 'EACCES', address: '127.0.0.1', port: 5432 })), 'EACCES (127.0.0.1:5432)');
  t.is(errorText(new Error('', { cause: new Error('the real reason') })), 'the real reason');
  t.is(errorText(new Error('first line\nstack-ish detail')), 'first line');
  t.is(errorText(new TypeError('')), 'TypeError without a message');
  t.is(errorText('plain text'), 'plain text');
  t.is(errorText({ message: 'from an object' }), 'from an object');
  t.is(errorText({ code: 'E_SOMETHING' }), 'E_SOMETHING');
  t.regex(errorText(undefined), /failed without giving a reason/);
  t.regex(errorText(null), /failed without giving a reason/);
  t.is(errorText(42), '42');
  for (const v of [undefined, null, '', new Error(''), {}, new AggregateError([], '')]) t.notRegex(errorText(v), /^(undefined|)$/);
});

test('a failed embedded PostgreSQL start is explained from its own log lines', (t) => {
  const bind = embeddedStartError(['LOG:  could not bind IPv4 address "127.0.0.1": Address already in use', 'FATAL:  could not create any TCP/IP sockets'], 5999, '/d/pg', '/d/log/postgresql.log');
  t.is(bind.message, 'port 5999 is already in use by another program: stop it or choose another port with PRAXISKERN_EMBEDDED_PG_PORT (log: /d/log/postgresql.log)');
  const lock = embeddedStartError(['FATAL:  lock file "postmaster.pid" already exists', 'HINT:  Is another postmaster (PID 12) running in data directory "/d/pg"?'], 5999, '/d/pg', '/d/log/postgresql.log');
  t.regex(lock.message, /the embedded PostgreSQL in \/d\/pg is already running/);
  const other = embeddedStartError(['LOG:  starting', 'FATAL:  data directory "/d/pg" has invalid permissions'], 5999, '/d/pg', '/d/log/postgresql.log');
  t.is(other.message, 'the embedded PostgreSQL did not start: FATAL:  data directory "/d/pg" has invalid permissions (log: /d/log/postgresql.log)');
  t.regex(embeddedStartError([], 1, '/d/pg', '/l').message, /did not start \(log: \/l\)/);
});
