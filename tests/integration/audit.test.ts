// The audit log is append-only for the API role and hash-chained; verify names the first bad row.
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { createDb, withScope, type Db } from '../../app/api/src/db/connection.ts';
import { verifyAuditChains } from '../../app/api/src/modules/audit/audit.verify.ts';
import { startTestApp, setupInstance, type TestApp } from '../helpers/app.ts';
import { waitForChained } from '../helpers/audit.ts';

const run = promisify(execFile);
let appServer: TestApp;
let orgId: string;
let owner: Db;

async function superuser<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: appServer.db.superuserUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

test.before(async () => {
  appServer = await startTestApp();
  const s = await setupInstance(appServer);
  orgId = s.organizationId;
  for (let i = 0; i < 5; i++) await s.client.get('/api/v1/audit?limit=5');
  owner = createDb(appServer.db.ownerUrl, 1);
  await waitForChained(owner);
});

test.after.always(async () => {
  await owner?.destroy();
  await appServer?.stop();
  await appServer?.db.drop();
});

test.serial('entries carry actor, organization, action, request id, ip, user agent, time and outcome', async (t) => {
  const rows = await owner('audit_log').where({ organization_id: orgId, action: 'audit.read' }).orderBy('seq');
  t.true(rows.length >= 5);
  const r = rows[0];
  t.truthy(r.actor_user_id);
  t.truthy(r.request_id);
  t.truthy(r.ip);
  t.truthy(r.user_agent);
  t.true(r.created_at instanceof Date);
  t.is(r.outcome, 'success');
  t.is(r.hash.length, 64);
});

test.serial('the API role cannot update, delete or truncate audit entries', async (t) => {
  const db = appServer.services.db;
  await t.throwsAsync(withScope(db, { organizationId: orgId }, (trx) => trx('audit_log').update({ action: 'x' })), { message: /permission denied/ });
  await t.throwsAsync(withScope(db, { organizationId: orgId }, (trx) => trx('audit_log').delete()), { message: /permission denied/ });
  await t.throwsAsync(db.raw('truncate audit_log'), { message: /permission denied/ });
});

test.serial('even the owner role is stopped by the append-only trigger', async (t) => {
  await t.throwsAsync(owner('audit_log').update({ action: 'x' }), { message: /append-only/ });
  await t.throwsAsync(owner('audit_log').delete(), { message: /append-only/ });
});

test.serial('an intact log verifies', async (t) => {
  const r = await verifyAuditChains(owner);
  t.true(r.ok, JSON.stringify(r.problems));
  t.true(r.entries >= 6);
});

async function tamper(sql: string): Promise<void> {
  await superuser(async (c) => {
    await c.query('alter table audit_log disable trigger user');
    try {
      await c.query(sql);
    } finally {
      await c.query('alter table audit_log enable trigger user');
    }
  });
}

test.serial('verify names an edited, a deleted and a reordered row', async (t) => {
  const rows = await owner('audit_log').where({ organization_id: orgId }).orderBy('seq').select('id', 'seq');
  const third = rows[2];
  const originalDetails = JSON.stringify((await owner('audit_log').where({ id: third.id }).first()).details);
  await tamper(`update audit_log set details = '{"forged":true}' where id = ${third.id}`);
  let r = await verifyAuditChains(owner);
  t.false(r.ok);
  t.is(r.problems[0].id, String(third.id));
  t.regex(r.problems[0].reason, /edited/);
  const cli = await run('node_modules/.bin/node', ['appliance/src/cli.ts', 'audit', 'verify'], {
    env: { ...process.env, DATABASE_URL: appServer.db.appUrl, DATABASE_OWNER_URL: appServer.db.ownerUrl, PRAXISKERN_DATA_DIR: appServer.dataDir, LOG_LEVEL: 'silent' },
  }).catch((e) => e);
  t.is(cli.code, 1);
  t.regex(cli.stderr, new RegExp(`entry id ${third.id} .*edited`));

  await tamper(`update audit_log set details = '${originalDetails}' where id = ${third.id}`);
  t.true((await verifyAuditChains(owner)).ok, 'restoring the original content heals the chain');

  await tamper(`delete from audit_log where id = ${rows[1].id}`);
  r = await verifyAuditChains(owner);
  t.false(r.ok);
  t.is(r.problems[0].id, String(third.id));
  t.regex(r.problems[0].reason, /missing/);
});

test.serial('verify detects two swapped entries', async (t) => {
  const fresh = await startTestApp();
  const s = await setupInstance(fresh);
  for (let i = 0; i < 3; i++) await s.client.get('/api/v1/audit');
  const o = createDb(fresh.db.ownerUrl, 1);
  await waitForChained(o);
  const rows = await o('audit_log').where({ organization_id: s.organizationId }).orderBy('seq').select('id', 'seq');
  const c = new pg.Client({ connectionString: fresh.db.superuserUrl });
  await c.connect();
  await c.query('alter table audit_log disable trigger user');
  await c.query(`update audit_log set seq = -1 where id = ${rows[1].id}; update audit_log set seq = ${rows[1].seq} where id = ${rows[2].id}; update audit_log set seq = ${rows[2].seq} where id = ${rows[1].id}`);
  await c.query('alter table audit_log enable trigger user');
  await c.end();
  const r = await verifyAuditChains(o);
  t.false(r.ok);
  t.is(r.problems[0].id, String(rows[1].id));
  await o.destroy();
  await fresh.stop();
  await fresh.db.drop();
});
