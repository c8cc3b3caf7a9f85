import anyTest, { type TestFn } from 'ava';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { startTestApp, setupInstance, type TestApp } from '../helpers/app.ts';
import { auditRows, enroll, ownerDb, signIn, stopApp } from './auth-fixtures.ts';

const test = anyTest as TestFn<{ app: TestApp; adminId: string }>;
const CLI = path.resolve('appliance/src/cli.ts');
let cliTotpSecret = '';

test.before(async (t) => {
  t.context = {} as typeof t.context;
  const app = (t.context.app = await startTestApp());
  t.context.adminId = (await setupInstance(app)).userId;
});

test.after.always(async (t) => {
  await stopApp(t.context?.app);
});

function cli(app: TestApp, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string; json: any }> {
  const env = { ...process.env, DATABASE_URL: app.db.appUrl, DATABASE_OWNER_URL: app.db.ownerUrl, PRAXISKERN_DATA_DIR: app.dataDir, LOG_LEVEL: 'silent' };
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env }, (err, stdout, stderr) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        /* human output */
      }
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr, json });
    });
  });
}

test.serial('praxiskern user add prints a one-time enrollment link; the person enrolls and signs in; list shows the account', async (t) => {
  const { app } = t.context;
  const res = await cli(app, 'user', 'add', '--username', 'Cli.User', '--display-name', 'Cli User', '--roles', 'doctor,staff', '--json');
  t.is(res.code, 0, res.stderr);
  t.true(res.json.ok);
  t.deepEqual(res.json.user.roles, ['doctor', 'staff']);
  t.false('totpSecret' in res.json || 'recoveryCodes' in res.json, 'the operator never sees the second factor');
  t.regex(res.json.enrollment.url, /\/enroll#[A-Za-z0-9_-]{43}$/);
  const human = await cli(app, 'user', 'add', '--username', 'cli.other', '--roles', 'staff');
  t.is(human.code, 0, human.stderr);
  t.regex(human.stdout, /One-time enrollment link \(valid until .+\).*\n {2}http\S+\/enroll#[A-Za-z0-9_-]{43}\n/);
  const enrolled = await enroll(app.url, res.json.enrollment.url, 'cli created password');
  cliTotpSecret = enrolled.totpSecret;
  const login = await signIn(app, { id: res.json.user.id, username: 'cli.user', password: 'cli created password', totpSecret: cliTotpSecret, recoveryCodes: [] });
  t.is(login.res.status, 200, login.res.text);
  const list = await cli(app, 'user', 'list', '--json');
  t.is(list.code, 0, list.stderr);
  t.deepEqual(list.json.users.map((u: { username: string }) => u.username).sort(), ['admin', 'cli.other', 'cli.user']);
  const lines = await cli(app, 'user', 'list');
  t.regex(lines.stdout, /cli\.user\s+active\s+doctor,staff/);
  const created = await auditRows(app, { action: 'user.created', object_id: res.json.user.id });
  t.is(created[0].actor_user_id, null);
  t.is(created[0].user_agent, 'cli');
});

test.serial('praxiskern user reset ends the sessions and prints a new link; the old password and link stop working', async (t) => {
  const { app } = t.context;
  const user = await ownerDb(app)('users').where({ username: 'cli.other' }).first('id');
  const first = await ownerDb(app)('enrollments').where({ user_id: user.id }).first('token_hash');
  const reset = await cli(app, 'user', 'reset', 'cli.other', '--json');
  t.is(reset.code, 0, reset.stderr);
  const second = await ownerDb(app)('enrollments').where({ user_id: user.id }).first('token_hash');
  t.false(first.token_hash.equals(second.token_hash), 'the new link replaced the old one');
  await enroll(app.url, reset.json.enrollment.url, 'other chose this one');
  const badKind = await cli(app, 'user', 'reset', 'cli.other', '--kind', 'everything');
  t.is(badKind.code, 1);
  t.regex(badKind.stderr, /--kind: must be full, password or totp/);
  const totpOnly = await cli(app, 'user', 'reset', 'cli.other', '--kind', 'totp', '--json');
  t.is(totpOnly.code, 0, totpOnly.stderr);
  t.is(totpOnly.json.user.enrollmentKind, 'totp');
  const kept = await ownerDb(app)('users').where({ id: user.id }).first('password_hash', 'totp_secret');
  t.truthy(kept.password_hash, 'a TOTP reset keeps the password');
  t.is(kept.totp_secret, null);
  const oidcOnly = await cli(app, 'user', 'reset', 'no-such-user');
  t.is(oidcOnly.code, 1);
  t.regex(oidcOnly.stderr, /^praxiskern: no user "no-such-user"\n$/);
});

test.serial('praxiskern user set-roles and deactivate end the user\'s sessions', async (t) => {
  const { app } = t.context;
  const user = await ownerDb(app)('users').where({ username: 'cli.user' }).first('id');
  const { client, res } = await signIn(app, { id: user.id, username: 'cli.user', password: 'cli created password', totpSecret: cliTotpSecret, recoveryCodes: [] }, { offset: 1 });
  t.is(res.status, 200, res.text);
  const roles = await cli(app, 'user', 'set-roles', 'cli.user', '--roles', 'finance', '--json');
  t.is(roles.code, 0, roles.stderr);
  t.deepEqual(roles.json.user.roles, ['finance']);
  t.is((await client.get('/api/v1/session')).body.user, null);
  const off = await cli(app, 'user', 'deactivate', user.id, '--json');
  t.is(off.code, 0, off.stderr);
  t.false(off.json.user.active);
  t.is((await ownerDb(app)('users').where({ id: user.id }).first('active')).active, false);
});

test.serial('CLI errors are one line and exit non-zero: unknown role, unknown user, last administrator', async (t) => {
  const { app, adminId } = t.context;
  const bad = await cli(app, 'user', 'set-roles', 'admin', '--roles', 'nurse');
  t.is(bad.code, 1);
  t.regex(bad.stderr, /^praxiskern: --roles: .+\n$/);
  const unknown = await cli(app, 'user', 'deactivate', 'no-such-user', '--json');
  t.is(unknown.code, 1);
  t.deepEqual(unknown.json, { ok: false, error: 'no user "no-such-user"' });
  const last = await cli(app, 'user', 'deactivate', 'admin');
  t.is(last.code, 1);
  t.regex(last.stderr, /at least one active administrator/);
  t.is((await ownerDb(app)('users').where({ id: adminId }).first('active')).active, true);
});
