// The container side of updates, as the host updater calls it (`docker compose exec -T worker
// praxiskern …`): migrations, update-gate, update-record, backup run --trigger pre-update, status,
// and the refusal of update/rollback inside a container. Real PostgreSQL, the real API and worker,
// the real CLI in a child process with the worker's environment (owner role, worker socket).
import anyTest, { type TestFn } from 'ava';
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MIGRATIONS, migrationSource } from '../../app/api/src/db/migrate.ts';
import { createDb } from '../../app/api/src/db/connection.ts';
import { migrate } from '../../app/api/src/server.ts';
import { VERSION } from '../../app/api/src/version.ts';
import { ADMIN, setupInstance, startTestApp, waitForWorkerUnsealed, type TestApp } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';
import { ownerDb, stopApp } from './auth-fixtures.ts';
import { backupEnv, PG_BIN_DIR } from './backup-fixtures.ts';

interface Ctx { app: TestApp; work: string; behind: TestDatabase }
const test = anyTest as TestFn<Ctx>;
const CLI = path.resolve('appliance/src/cli.ts');
const KNOWN = Object.keys(MIGRATIONS).sort();
const LAST = KNOWN.at(-1)!;

test.before(async (t) => {
  const app = await startTestApp();
  await setupInstance(app);
  await waitForWorkerUnsealed(app, ownerDb(app));
  // A database one migration behind this version (the state between "images loaded" and "migrated").
  const behind = await createTestDatabase();
  await migrate(behind.ownerUrl);
  const owner = createDb(behind.ownerUrl, 1);
  await owner.migrate.down({ migrationSource });
  await owner.destroy();
  t.context = { app, work: mkdtempSync(path.join(tmpdir(), 'pk-update-cli-')), behind };
});

test.after.always(async (t) => {
  await stopApp(t.context?.app);
  await t.context?.behind?.drop();
});

interface Run { code: number; stdout: string; stderr: string; json: any }

/** The CLI as in the worker container: owner role, the worker's admin socket, the app's /readyz. */
function cli(t: { context: Ctx }, args: string[], opts: { env?: Record<string, string>; stdin?: string | Buffer } = {}): Promise<Run> {
  const { app } = t.context;
  const env = {
    ...process.env, DATABASE_URL: app.db.appUrl, DATABASE_OWNER_URL: app.db.ownerUrl, PRAXISKERN_DATA_DIR: app.dataDir, LOG_LEVEL: 'silent',
    PRAXISKERN_ADMIN_SOCKET: path.join(app.dataDir, 'run', 'worker.sock'), PRAXISKERN_APP_READYZ_URL: `${app.url}/readyz`, ...opts.env,
  };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.stdin.end(opts.stdin);
    child.on('close', (code) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        /* human output */
      }
      resolve({ code: code ?? -1, stdout, stderr, json });
    });
  });
}

/** One line on stderr, "praxiskern: …", and no stack trace. */
function oneLine(t: { regex(s: string, r: RegExp, m?: string): void; is(a: unknown, b: unknown, m?: string): void }, r: Run, pattern: RegExp): void {
  t.regex(r.stderr, /^praxiskern: [^\n]+\n$/, `one line: ${JSON.stringify(r.stderr)}`);
  t.regex(r.stderr, pattern);
  t.is(/\n\s+at /.test(r.stderr), false, 'no stack trace');
}

/** Backup runs print progress lines on stderr first; the reason is the last line, "praxiskern: …". */
function lastLine(t: { regex(s: string, r: RegExp, m?: string): void; is(a: unknown, b: unknown, m?: string): void }, r: Run, pattern: RegExp): void {
  const lines = r.stderr.split('\n');
  t.is(lines.pop(), '', 'ends with a line break');
  t.regex(lines.at(-1) ?? '', pattern);
  t.is(lines.filter((l) => l.startsWith('praxiskern: ')).length, 1, 'one reason');
  t.is(/\n\s+at /.test(r.stderr), false, 'no stack trace');
}

function record(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: randomUUID(), kind: 'update', fromVersion: '1.0.0', toVersion: '1.1.0', startedAt: '2026-12-01T17:00:00Z', finishedAt: null,
    outcome: 'running', by: 'itadmin', durationSeconds: null, detail: null, forced: false, forceReason: null, snapshotRestored: false, phases: {},
    ...overrides,
  };
}

function file(t: { context: Ctx }, content: string | Buffer): string {
  const f = path.join(t.context.work, `${randomUUID()}.json`);
  writeFileSync(f, content);
  return f;
}

const updateAudit = (t: { context: Ctx }, id: string) =>
  ownerDb(t.context.app)('audit_log').where({ object_type: 'update', object_id: id }).orderBy('id').select('action', 'organization_id', 'outcome', 'details');

test('praxiskern migrations lists the known, applied and pending migrations', async (t) => {
  const r = await cli(t, ['migrations', '--json']);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(r.json, { ok: true, known: KNOWN, applied: KNOWN, pending: [] });
  const behind = await cli(t, ['migrations'], { env: { DATABASE_URL: t.context.behind.appUrl, DATABASE_OWNER_URL: t.context.behind.ownerUrl } });
  t.is(behind.code, 0, behind.stderr);
  t.regex(behind.stdout, new RegExp(`^${KNOWN.length} known, ${KNOWN.length - 1} applied, 1 pending\\.\\n`));
  t.regex(behind.stdout, new RegExp(`PENDING  ${LAST}\\n`));
  // The app container holds the application role only: it reads the list too.
  const appRole = await cli(t, ['migrations', '--json'], { env: { DATABASE_OWNER_URL: '' } });
  t.is(appRole.code, 0, appRole.stderr);
  t.deepEqual(appRole.json.applied, KNOWN);
});

test('praxiskern status --json reports the running version and the migrations', async (t) => {
  const r = await cli(t, ['status', '--json']);
  t.is(r.code, 0, r.stderr);
  t.is(r.json.version, VERSION);
  t.deepEqual(r.json.migrations, { applied: KNOWN.length, last: LAST, pending: [] });
  t.false(r.json.sealed);
  const human = await cli(t, ['status']);
  t.regex(human.stdout, new RegExp(`^version ${VERSION.replace(/\./g, '\\.')}; set up; unsealed; migrations: ${KNOWN.length} applied \\(last ${LAST}\\)\\n`));
});

test.serial('praxiskern update-gate passes with the expected migration and an unsealed worker and app', async (t) => {
  const r = await cli(t, ['update-gate', '--expect-migration', LAST, '--json']);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.is(r.json.ok, true);
  t.is(r.json.sealed, false);
  t.is(r.json.version, VERSION);
  t.is(r.json.lastMigration, LAST);
  t.deepEqual(r.json.pending, []);
  t.deepEqual(r.json.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok]), [['database', true], ['migrations', true], ['smoke', true], ['seal', true], ['app-version', true]]);
  t.regex(r.json.checks.find((c: { name: string }) => c.name === 'smoke').detail, /^1 organizations, 1 users, 0 patients, \d+ audit chains$/);
  t.regex(r.json.checks.find((c: { name: string }) => c.name === 'seal').detail, /worker \(.+worker\.sock\) unsealed; app \(http:.+\/readyz\) unsealed/);
  const human = await cli(t, ['update-gate', '--expect-migration', LAST]);
  t.is(human.code, 0);
  t.regex(human.stdout, /^Update gate passed for .+\.\n {2}ok {5}database: /);
});

test.serial('praxiskern update-gate fails (exit 1) when the expected migration differs or one is pending', async (t) => {
  const other = await cli(t, ['update-gate', '--expect-migration', KNOWN.at(-2)!, '--json']);
  t.is(other.code, 1);
  t.is(other.json.ok, false);
  const m = other.json.checks.find((c: { name: string }) => c.name === 'migrations');
  t.false(m.ok);
  t.is(m.detail, `the last applied migration is ${LAST}, expected ${KNOWN.at(-2)}`);
  const unknown = await cli(t, ['update-gate', '--expect-migration', '20991231_9999_from_the_future', '--json']);
  t.is(unknown.code, 1);
  t.regex(unknown.json.checks[1].detail, /"20991231_9999_from_the_future" is not a migration of this version/);

  const { behind } = t.context;
  const pending = await cli(t, ['update-gate', '--expect-migration', LAST, '--json'], { env: { DATABASE_URL: behind.appUrl, DATABASE_OWNER_URL: behind.ownerUrl } });
  t.is(pending.code, 1);
  t.deepEqual(pending.json.pending, [LAST]);
  t.is(pending.json.lastMigration, KNOWN.at(-2));
  t.is(pending.json.checks[1].detail, `the last applied migration is ${KNOWN.at(-2)}, expected ${LAST}; pending: ${LAST}`);
  const human = await cli(t, ['update-gate', '--expect-migration', LAST], { env: { DATABASE_URL: behind.appUrl, DATABASE_OWNER_URL: behind.ownerUrl } });
  t.is(human.code, 1);
  t.regex(human.stderr, /^Update gate FAILED for .+\n(.*\n)* {2}FAILED migrations: the last applied migration is /);
});

test.serial('praxiskern update-gate exits 3 while the worker or the app is sealed, and 0 again once unsealed', async (t) => {
  const { app } = t.context;
  app.worker.services.seal.seal();
  try {
    const r = await cli(t, ['update-gate', '--expect-migration', LAST, '--json']);
    t.is(r.code, 3, r.stdout);
    t.is(r.json.ok, true);
    t.is(r.json.sealed, true);
    t.regex(r.json.checks.find((c: { name: string }) => c.name === 'seal').detail, /^worker \(.+\) sealed; app \(.+\) unsealed$/);
    const human = await cli(t, ['update-gate', '--expect-migration', LAST]);
    t.is(human.code, 3);
    t.regex(human.stdout, /SEALED: unseal it \(praxiskern unseal\), then run the gate again/);
  } finally {
    await app.worker.services.seal.unseal(app.worker.services.db, ADMIN.passphrase);
  }
  app.services.seal.seal();
  try {
    const r = await cli(t, ['update-gate', '--expect-migration', LAST, '--json']);
    t.is(r.code, 3);
    t.regex(r.json.checks.find((c: { name: string }) => c.name === 'seal').detail, /^worker \(.+\) unsealed; app \(.+\) sealed$/);
  } finally {
    await app.services.seal.unseal(app.services.db, ADMIN.passphrase);
  }
  t.is((await cli(t, ['update-gate', '--expect-migration', LAST])).code, 0);
});

test.serial('praxiskern update-gate fails (exit 1) naming the check when the worker, the database or the app version is wrong', async (t) => {
  const noWorker = await cli(t, ['update-gate', '--expect-migration', LAST, '--json'], { env: { PRAXISKERN_ADMIN_SOCKET: path.join(t.context.work, 'no.sock') } });
  t.is(noWorker.code, 1);
  const seal = noWorker.json.checks.find((c: { name: string }) => c.name === 'seal');
  t.false(seal.ok);
  t.regex(seal.detail, /worker \(.+no\.sock\) not reachable; app .+ unsealed: the worker must be running for the gate/);

  const noDb = await cli(t, ['update-gate', '--expect-migration', LAST, '--json'], { env: { DATABASE_URL: 'postgres://x:y@127.0.0.1:1/none', DATABASE_OWNER_URL: 'postgres://x:y@127.0.0.1:1/none' } });
  t.is(noDb.code, 1);
  t.deepEqual(noDb.json.checks.slice(0, 3).map((c: { name: string; ok: boolean }) => [c.name, c.ok]), [['database', false], ['migrations', false], ['smoke', false]]);
  t.regex(noDb.json.checks[0].detail, /ECONNREFUSED|connect/);

  const otherVersion = await cli(t, ['update-gate', '--expect-migration', LAST, '--json'], { env: { PRAXISKERN_VERSION: '9.9.9-test' } });
  t.is(otherVersion.code, 1);
  t.is(otherVersion.json.version, '9.9.9-test');
  t.deepEqual(otherVersion.json.checks.find((c: { name: string }) => c.name === 'app-version'), { name: 'app-version', ok: false, detail: `the app runs ${VERSION}, expected 9.9.9-test` });

  const noApp = await cli(t, ['update-gate', '--expect-migration', LAST, '--json'], { env: { PRAXISKERN_APP_READYZ_URL: 'http://127.0.0.1:1/readyz' } });
  t.is(noApp.code, 0, 'the app is optional for the gate');
  t.regex(noApp.json.checks.find((c: { name: string }) => c.name === 'seal').detail, /app \(http:\/\/127\.0\.0\.1:1\/readyz\) not reachable$/);

  const missing = await cli(t, ['update-gate', '--json']);
  t.is(missing.code, 64);
  t.deepEqual(missing.json, { ok: false, error: '--expect-migration NAME is required (the last migration of the version being started)' });
});

test.serial('praxiskern update-record records a run once, finishes it once, and writes the installation audit entries once', async (t) => {
  const { app } = t.context;
  const started = record({ forced: true, forceReason: 'the backup target is being replaced today', by: 'ansible' });
  const f = file(t, JSON.stringify(started));
  const first = await cli(t, ['update-record', '--json-file', f, '--json']);
  t.is(first.code, 0, first.stderr);
  t.deepEqual(first.json, { ok: true, id: started.id, created: true, changed: true, audited: ['installation.update.started'] });
  const again = await cli(t, ['update-record', '--json-file', f, '--json']);
  t.deepEqual(again.json, { ok: true, id: started.id, created: false, changed: false, audited: [] });

  const finished = { ...started, finishedAt: '2026-12-01T17:03:12.5Z', outcome: 'rolled_back', durationSeconds: 192.5, detail: 'health gate: readyz timed out', snapshotRestored: true, phases: { snapshot: 40.1, load: 20, migrate: 3.5, gate: 120 } };
  const done = await cli(t, ['update-record', '--json-file', '-'], { stdin: JSON.stringify(finished) });
  t.is(done.code, 0, done.stderr);
  t.is(done.stdout, `Update ${started.id} (1.0.0 → 1.1.0, rolled_back): updated.\n`);
  const doneAgain = await cli(t, ['update-record', '--json-file', '-', '--json'], { stdin: JSON.stringify({ ...finished, phases: { gate: 120, migrate: 3.5, load: 20, snapshot: 40.1 } }) });
  t.deepEqual(doneAgain.json.audited, [], 'the same record again (phases in another order) adds nothing');
  t.false(doneAgain.json.changed);

  const rows = await ownerDb(app)('update_history').where({ id: started.id });
  t.is(rows.length, 1);
  t.like(rows[0], { kind: 'update', from_version: '1.0.0', to_version: '1.1.0', outcome: 'rolled_back', performed_by: 'ansible', duration_seconds: 192.5, forced: true, snapshot_restored: true, detail: 'health gate: readyz timed out' });
  t.is(rows[0].finished_at.toISOString(), '2026-12-01T17:03:12.500Z');
  t.deepEqual(rows[0].phases, finished.phases);

  const entries = await updateAudit(t, started.id as string);
  t.deepEqual(entries.map((e) => [e.action, e.organization_id, e.outcome]), [['installation.update.started', null, 'success'], ['installation.update.finished', null, 'failure']]);
  t.like(entries[0].details, { forced: true, forceReason: 'the backup target is being replaced today', by: 'ansible', fromVersion: '1.0.0', toVersion: '1.1.0' });
  t.like(entries[1].details, { outcome: 'rolled_back', durationSeconds: 192.5, snapshotRestored: true, detail: 'health gate: readyz timed out' });

  // A run recorded finished at once (a refused update): started and finished, once each.
  const refused = record({ finishedAt: '2026-12-01T17:00:01Z', outcome: 'refused', durationSeconds: 1, detail: 'bad signature' });
  const r1 = await cli(t, ['update-record', '--json-file', file(t, JSON.stringify(refused)), '--json']);
  t.deepEqual(r1.json.audited, ['installation.update.started', 'installation.update.finished']);
  const r2 = await cli(t, ['update-record', '--json-file', file(t, JSON.stringify(refused)), '--json']);
  t.deepEqual(r2.json.audited, []);
  t.is((await updateAudit(t, refused.id as string)).length, 2);
  t.false('forceReason' in (await updateAudit(t, refused.id as string))[0].details, 'an unforced run has no force reason');
});

const BAD: [string, (r: Record<string, unknown>) => Record<string, unknown> | string | Buffer, RegExp][] = [
  ['not JSON', () => '{"id": ', /update-record: the update record is not valid JSON/],
  ['empty', () => '', /update-record: the update record is empty/],
  ['not UTF-8', (r) => Buffer.concat([Buffer.from(JSON.stringify(r).slice(0, -1) + ',"detail":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), /update-record: the update record is not valid UTF-8 text/],
  ['an array', () => '[]', /update-record: the update record must be a JSON object, got an array/],
  ['an unknown field', (r) => ({ ...r, version: '2' }), /update-record: version: is not a field of the update record/],
  ['id', (r) => ({ ...r, id: 'not-a-uuid' }), /update-record: id: must be a UUID, got "not-a-uuid"/],
  ['id missing', (r) => ({ ...r, id: undefined }), /update-record: id: must be a string, got nothing \(it is required\)/],
  ['kind', (r) => ({ ...r, kind: 'upgrade' }), /update-record: kind: must be one of update, rollback, got "upgrade"/],
  ['fromVersion', (r) => ({ ...r, fromVersion: 1.1 }), /update-record: fromVersion: must be a string, got a number/],
  ['toVersion', (r) => ({ ...r, toVersion: '1.1; rm -rf /' }), /update-record: toVersion: must be a version/],
  ['startedAt', (r) => ({ ...r, startedAt: 'yesterday' }), /update-record: startedAt: must be an ISO 8601 time with a time zone/],
  ['startedAt without zone', (r) => ({ ...r, startedAt: '2026-12-01T17:00:00' }), /update-record: startedAt: must be an ISO 8601 time/],
  ['finishedAt before startedAt', (r) => ({ ...r, outcome: 'failed', finishedAt: '2026-12-01T16:00:00Z' }), /update-record: finishedAt: is before startedAt/],
  ['finishedAt missing when finished', (r) => ({ ...r, outcome: 'succeeded' }), /update-record: finishedAt: is required when the outcome is "succeeded"/],
  ['finishedAt while running', (r) => ({ ...r, finishedAt: '2026-12-01T17:10:00Z' }), /update-record: finishedAt: must be null while the outcome is "running"/],
  ['outcome', (r) => ({ ...r, outcome: 'done' }), /update-record: outcome: must be one of running, succeeded, rolled_back, failed, refused, got "done"/],
  ['by with a NUL byte', (r) => ({ ...r, by: 'it\u0000admin' }), /update-record: by: contains a NUL byte/],
  ['by empty', (r) => ({ ...r, by: '  ' }), /update-record: by: must not be empty/],
  ['by on two lines', (r) => ({ ...r, by: 'it\nadmin' }), /update-record: by: must be one line/],
  ['detail with a lone surrogate', (r) => ({ ...r, detail: 'broken \ud800 text' }), /update-record: detail: contains invalid Unicode \(a lone surrogate\)/],
  ['detail too long', (r) => ({ ...r, detail: 'x'.repeat(2001) }), /update-record: detail: must be at most 2000 characters, got 2001/],
  ['durationSeconds as text', (r) => ({ ...r, durationSeconds: '12' }), /update-record: durationSeconds: must be a number of seconds or null, got a string/],
  ['durationSeconds negative', (r) => ({ ...r, durationSeconds: -1 }), /update-record: durationSeconds: must not be negative, got -1/],
  ['forced', (r) => ({ ...r, forced: 'yes' }), /update-record: forced: must be true or false, got a string/],
  ['forced without a reason', (r) => ({ ...r, forced: true, forceReason: null }), /update-record: forceReason: is required when forced is true/],
  ['forceReason', (r) => ({ ...r, forceReason: 42 }), /update-record: forceReason: must be a string or null, got a number/],
  ['snapshotRestored', (r) => ({ ...r, snapshotRestored: 1 }), /update-record: snapshotRestored: must be true or false, got a number/],
  ['phases as a list', (r) => ({ ...r, phases: [] }), /update-record: phases: must be an object of phase name → seconds, got an array/],
  ['a phase as text', (r) => ({ ...r, phases: { load: '3' } }), /update-record: phases\.load: must be a number of seconds, got a string/],
  ['a phase name', (r) => ({ ...r, phases: { 'a b': 3 } }), /update-record: phases: phase names are letters, digits/],
];

test.serial('praxiskern update-record refuses bad input with exit 64 and one line naming the field; nothing is written', async (t) => {
  const { app } = t.context;
  const before = await ownerDb(app)('update_history').count<{ n: string }[]>('* as n').first();
  for (const [name, make, pattern] of BAD) {
    const made = make(record());
    const content = typeof made === 'string' || Buffer.isBuffer(made) ? made : JSON.stringify(made);
    const r = await cli(t, ['update-record', '--json-file', file(t, content)]);
    t.is(r.code, 64, `${name}: ${r.stderr}`);
    oneLine(t, r, pattern);
  }
  const json = await cli(t, ['update-record', '--json-file', '-', '--json'], { stdin: JSON.stringify(record({ kind: 'upgrade' })) });
  t.is(json.code, 64);
  t.deepEqual(json.json, { ok: false, error: 'update-record: kind: must be one of update, rollback, got "upgrade"' });
  const noFile = await cli(t, ['update-record', '--json-file', path.join(t.context.work, 'missing.json')]);
  t.is(noFile.code, 64);
  oneLine(t, noFile, /--json-file: cannot read .+missing\.json: ENOENT/);
  const noArg = await cli(t, ['update-record']);
  t.is(noArg.code, 64);
  oneLine(t, noArg, /--json-file FILE \(or - for standard input\) is required/);
  t.deepEqual(await ownerDb(app)('update_history').count<{ n: string }[]>('* as n').first(), before, 'no row was written');

  // The same id with another version pair is another run: refused, the first stays as it was.
  const first = record();
  t.is((await cli(t, ['update-record', '--json-file', file(t, JSON.stringify(first))])).code, 0);
  const clash = await cli(t, ['update-record', '--json-file', file(t, JSON.stringify({ ...first, fromVersion: '0.9.0' }))]);
  t.is(clash.code, 64);
  oneLine(t, clash, new RegExp(`update-record: fromVersion: the update ${first.id} was recorded with "1.0.0", not "0.9.0"`));
  t.is((await ownerDb(app)('update_history').where({ id: first.id }).first()).from_version, '1.0.0');
});

test('update-record needs the owner role: in the app container it says where to run it', async (t) => {
  const r = await cli(t, ['update-record', '--json-file', '-'], { stdin: JSON.stringify(record()), env: { DATABASE_OWNER_URL: '' } });
  t.is(r.code, 1);
  oneLine(t, r, /this command needs the database owner role .+docker compose exec worker praxiskern/);
});

test('praxiskern update and rollback inside the container answer where they run, exit 64', async (t) => {
  const u = await cli(t, ['update', '/tmp/praxiskern-1.1.0.tar', '--force', '--reason', 'x']);
  t.is(u.code, 64);
  oneLine(t, u, /^praxiskern: praxiskern update runs on the server host, not in a container: \/usr\/local\/bin\/praxiskern update BUNDLE/);
  const r = await cli(t, ['rollback', '--yes']);
  t.is(r.code, 64);
  oneLine(t, r, /^praxiskern: praxiskern rollback runs on the server host, not in a container: \/usr\/local\/bin\/praxiskern rollback/);
});

test.serial('praxiskern backup run --trigger pre-update refuses (exit 1, one line) without a target, and takes a snapshot with one', async (t) => {
  const none = await cli(t, ['backup', 'run', '--trigger', 'pre-update'], { env: { PRAXISKERN_BACKUP_TARGETS: '' } });
  t.is(none.code, 1);
  lastLine(t, none, /^praxiskern: the pre-update snapshot failed, so the update does not proceed: no backup target is configured \(PRAXISKERN_BACKUP_TARGETS\)$/);
  const noneJson = await cli(t, ['backup', 'run', '--trigger', 'pre-update', '--json'], { env: { PRAXISKERN_BACKUP_TARGETS: '' } });
  t.is(noneJson.code, 1);
  t.deepEqual(noneJson.json, { ok: false, error: 'the pre-update snapshot failed, so the update does not proceed: no backup target is configured (PRAXISKERN_BACKUP_TARGETS)' });
  const unreachable = await cli(t, ['backup', 'run', '--trigger', 'pre-update'], { env: backupEnv([`nas=local:${path.join(t.context.work, 'no-such-dir', 'target')}`]) as Record<string, string> });
  t.is(unreachable.code, 1);
  lastLine(t, unreachable, /^praxiskern: the pre-update snapshot failed, so the update does not proceed: nas: backup target "nas": cannot reach .+no-such-dir/);
  const bogus = await cli(t, ['backup', 'run', '--trigger', 'later']);
  t.is(bogus.code, 64);
  oneLine(t, bogus, /--trigger must be cli or pre-update, got "later"/);

  if (!PG_BIN_DIR) return t.fail('pg_dump (PostgreSQL 17 client tools) is needed for the snapshot');
  const target = path.join(t.context.work, 'target');
  mkdirSync(target);
  const ok = await cli(t, ['backup', 'run', '--trigger', 'pre-update', '--json'], { env: backupEnv([`nas=local:${target}`]) as Record<string, string> });
  t.is(ok.code, 0, ok.stderr + ok.stdout);
  t.true(ok.json.ok);
  const job = await ownerDb(t.context.app)('backup_jobs').where({ snapshot_id: ok.json.snapshotId }).first('trigger', 'status');
  t.is(job.trigger, 'pre-update');
  t.log(`pre-update snapshot: ${ok.json.durationSeconds.toFixed(2)} s`);
});
