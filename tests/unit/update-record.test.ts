// The host updater's update record: defaults for the optional fields, normalised id and times, and
// one error naming the field for anything else (the CLI turns it into exit 64).
import test from 'ava';
import { parseUpdateRecord, UpdateRecordInvalid } from '../../app/api/src/modules/updates/update-record.ts';

const minimal = { id: 'A1B2C3D4-0000-4000-8000-0000000000AA', kind: 'update', fromVersion: '1.0.0', toVersion: '1.1.0-rc.1', startedAt: '2026-12-01T18:30:00+01:00', outcome: 'running', by: 'itadmin' };
const parse = (o: unknown) => parseUpdateRecord(Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)));

test('a minimal record gets the documented defaults; the id is lower-cased and times become UTC', (t) => {
  t.deepEqual(parse(minimal), {
    id: 'a1b2c3d4-0000-4000-8000-0000000000aa', kind: 'update', fromVersion: '1.0.0', toVersion: '1.1.0-rc.1', startedAt: '2026-12-01T17:30:00.000Z',
    finishedAt: null, outcome: 'running', by: 'itadmin', durationSeconds: null, detail: null, forced: false, forceReason: null, snapshotRestored: false, phases: {},
  });
});

test('a byte-order mark is accepted; a multi-line detail is kept', (t) => {
  const r = parseUpdateRecord(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify({ ...minimal, outcome: 'failed', finishedAt: '2026-12-01T17:31:00Z', detail: 'phase gate\nreadyz: 503' }))]));
  t.is(r.detail, 'phase gate\nreadyz: 503');
  t.is(r.finishedAt, '2026-12-01T17:31:00.000Z');
});

test('each problem names its field', (t) => {
  const cases: [unknown, string | null, RegExp][] = [
    [{ ...minimal, phases: { ['ga\u0000te']: 1 } }, 'phases', /phase names are/],
    [{ ...minimal, ['o\u0000ops']: 1 }, '(a field name)', /is not a field/],
    [{ ...minimal, startedAt: '2026-02-30T10:00:00Z' }, 'startedAt', /ISO 8601/],
    [JSON.stringify(minimal).replace(/}$/, ',"durationSeconds":1e400}'), 'durationSeconds', /must be a number of seconds or null, got a number out of range/],
    [{ ...minimal, by: 'x'.repeat(129) }, 'by', /at most 128 characters, got 129/],
    [{ ...minimal, by: 'bell\u0007' }, 'by', /contains a control character/],
    ['x'.repeat(70_000), null, /larger than 65536 bytes/],
    ['null', null, /must be a JSON object, got null/],
  ];
  for (const [input, field, message] of cases) {
    const err = t.throws(() => parse(input), { instanceOf: UpdateRecordInvalid });
    if (field !== null) t.is(err?.field, field, String(err?.message));
    t.regex(err?.message ?? '', message);
  }
});
