// The newest audit entries cannot silently disappear: the app anchors every chain outside the
// database (anchor file, metric), every backup manifest carries anchors, and `audit verify`
// compares the chains with them — a truncated tail or a chain recomputed in SQL fails.
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { createDb, type Db } from '../../app/api/src/db/connection.ts';
import { anchorFilePath, readAnchorFile, readRestoreRecords, recordRestore, supersededByRestore, writeAnchorFile } from '../../app/api/src/modules/audit/anchor-file.repository.ts';
import { verifyAuditChains } from '../../app/api/src/modules/audit/audit.verify.ts';
import { runBackup } from '../../app/api/src/modules/backup/snapshot.service.ts';
import { setupInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import { waitForChained } from '../helpers/audit.ts';
import type { Client } from '../helpers/http-client.ts';
import { backupEnv, metricValue, runtimeFor, writeIdentityFile } from './backup-fixtures.ts';

const run = promisify(execFile);
let app: TestApp;
let admin: Client;
let orgId: string;
let owner: Db;
let work: string;
let env: NodeJS.ProcessEnv;
let identityFile: string;
let backupSeq: number;
let backupId: string;
let stopped = false;

test.before(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'pk-audit-anchors-'));
  mkdirSync(path.join(work, 'target'));
  env = backupEnv([`nas=local:${path.join(work, 'target')}`]);
  identityFile = writeIdentityFile(work);
  app = await startTestApp();
  const s = await setupInstance(app);
  admin = s.client;
  orgId = s.organizationId;
  for (let i = 0; i < 5; i++) await admin.get('/api/v1/audit?limit=5');
  owner = createDb(app.db.ownerUrl, 1);
});

test.after.always(async () => {
  await owner?.destroy();
  if (!stopped) await app?.stop();
  await app?.db.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The chain's head once the sequencer has linked every committed entry. */
async function head(): Promise<number> {
  await waitForChained(owner);
  return Number((await owner('audit_log').where({ organization_id: orgId }).max('seq as m').first())!.m);
}

async function anchoredSeq(): Promise<number | undefined> {
  return (await readAnchorFile(anchorFilePath(app.dataDir)))?.chains[orgId]?.seq;
}

/** Waits (with a deadline) until the anchor file records `seq` for the organization's chain. */
async function waitForAnchor(seq: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await anchoredSeq()) !== seq) {
    if (Date.now() > deadline) throw new Error(`anchor file still at ${await anchoredSeq()}, expected ${seq}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function superuser(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: app.db.superuserUrl });
  await c.connect();
  try {
    await c.query('alter table audit_log disable trigger user');
    await c.query(sql);
  } finally {
    await c.query('alter table audit_log enable trigger user');
    await c.end();
  }
}

function cliVerify(args: string[] = []) {
  return run('node_modules/.bin/node', ['appliance/src/cli.ts', 'audit', 'verify', ...args], {
    env: { ...process.env, ...env, DATABASE_URL: app.db.appUrl, DATABASE_OWNER_URL: app.db.ownerUrl, PRAXISKERN_DATA_DIR: app.dataDir, LOG_LEVEL: 'silent' },
  }).then((r) => ({ code: 0, ...r }), (e) => e as { code: number; stdout: string; stderr: string });
}

const anchorFileSource = async () => ({ name: 'anchor file', anchors: Object.values((await readAnchorFile(anchorFilePath(app.dataDir)))!.chains) });

test.serial('shortly after audit entries commit, the anchor file (0600) and the chain-length metric show the chain head', async (t) => {
  const seq = await head();
  await waitForAnchor(seq);
  t.is(statSync(anchorFilePath(app.dataDir)).mode & 0o777, 0o600);
  const file = (await readAnchorFile(anchorFilePath(app.dataDir)))!;
  t.is(file.chains[orgId].hash, (await owner('audit_log').where({ organization_id: orgId, seq }).first('hash')).hash);
  // App and worker both run a sequencer: the process whose sequencer chained the head sets its gauge
  // with that anchor write; the other process's writer confirms the heads every 30 s (docs/monitoring.md).
  const chainLength = (s: TestApp['services']) => metricValue(s, 'praxiskern_audit_chain_length', { organization_id: orgId });
  t.true([await chainLength(app.services), await chainLength(app.worker.services)].includes(seq), 'the gauge of the process that wrote the anchor shows the head');
  await Promise.all([app.auditAnchors.flush(), app.worker.auditAnchors.flush()]);
  t.is(await chainLength(app.services), seq, 'the app confirms the head');
  t.is(await chainLength(app.worker.services), seq, 'the worker confirms the head');
  t.false(readFileSync(anchorFilePath(app.dataDir), 'utf8').includes('audit.read'), 'the file holds sequence numbers and hashes, no content');
  const ok = await cliVerify();
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /Audit log intact: \d+ entries in \d+ chains; [1-9]\d* anchors matched from 1 sources/);
});

test.serial('a chain recomputed in SQL after an edit passes the hash walk but not the anchors', async (t) => {
  const seq = await head();
  await waitForAnchor(seq);
  const recompute = (details: string) => `
    update audit_log set details = '${details}' where organization_id = '${orgId}' and seq = 3;
    do $$ declare r record; prev text; begin
      select hash into prev from audit_log where organization_id = '${orgId}' and seq = 2;
      for r in select id from audit_log where organization_id = '${orgId}' and seq >= 3 order by seq loop
        update audit_log set prev_hash = prev where id = r.id;
        update audit_log a set hash = audit_entry_hash(a) where id = r.id returning hash into prev;
      end loop;
    end $$;`;
  const original = JSON.stringify((await owner('audit_log').where({ organization_id: orgId, seq: 3 }).first('details')).details);
  await superuser(recompute('{"forged":true}'));
  t.true((await verifyAuditChains(owner)).ok, 'without anchors the rewritten chain is self-consistent');
  const r = await verifyAuditChains(owner, [await anchorFileSource()]);
  t.false(r.ok);
  t.is(r.problems[0].kind, 'rewritten');
  t.is(r.problems[0].seq, seq);
  t.regex(r.problems[0].reason, new RegExp(`entry seq ${seq} differs from what anchor file .* recorded: the chain was rewritten`));
  await superuser(recompute(original.replace(/'/g, "''")));
  t.true((await verifyAuditChains(owner, [await anchorFileSource()])).ok, 'the original entries match the anchor again');
});

test.serial('deleting the newest entries as the owner fails audit verify: it names the truncation and the last matched anchor', async (t) => {
  const rt = runtimeFor(app.services, app.db.ownerUrl, env);
  await waitForChained(owner);
  const backup = await runBackup(rt);
  t.true(backup.ok, backup.error);
  backupId = backup.snapshotId;
  backupSeq = Number((await owner('audit_log').where({ organization_id: orgId }).max('seq as m').first())!.m);
  for (let i = 0; i < 4; i++) await admin.get('/api/v1/audit?limit=1');
  const newest = await head();
  await waitForAnchor(newest);
  t.true(newest > backupSeq + 2);

  await superuser(`delete from audit_log where organization_id = '${orgId}' and seq > ${newest - 2}`);
  t.true((await verifyAuditChains(owner)).ok, 'the hash walk alone cannot see a missing tail');

  const cli = await cliVerify(['--identity-file', identityFile]);
  t.is(cli.code, 1);
  t.regex(cli.stderr, new RegExp(`audit chain of organization ${orgId} is truncated: the chain ends at seq ${newest - 2} but anchor file \\S+anchors.json \\(\\S+\\) recorded seq ${newest}`));
  t.regex(cli.stderr, new RegExp(`last matched anchor: backup nas/${backupId} at seq ${backupSeq}`));
  const json = JSON.parse((await cliVerify(['--identity-file', identityFile, '--json'])).stdout);
  t.false(json.ok);
  t.like(json.problems[0], { kind: 'truncated', seq: newest - 2, lastMatchedAnchor: { source: `backup nas/${backupId}`, seq: backupSeq } });

  // The writer keeps the old anchor instead of following the shortened chain, and says so.
  await app.auditAnchors.flush();
  t.is(await anchoredSeq(), newest);
  t.is(await metricValue(app.services, 'praxiskern_audit_anchor_mismatch', { organization_id: orgId }), 1);
  // Deleting the file as well does not make the running writer forget: it writes the old anchor again.
  rmSync(anchorFilePath(app.dataDir));
  await app.auditAnchors.flush();
  t.is(await anchoredSeq(), newest);
});

test.serial('with no anchor file, the anchors of a backup manifest alone reveal the truncation', async (t) => {
  await app.stop();
  stopped = true;
  rmSync(anchorFilePath(app.dataDir));
  await superuser(`delete from audit_log where organization_id = '${orgId}' and seq > ${backupSeq - 2}`);
  const cli = await cliVerify(['--identity-file', identityFile]);
  t.is(cli.code, 1);
  t.regex(cli.stderr, new RegExp(`is truncated: the chain ends at seq ${backupSeq - 2} but backup nas/${backupId} \\(\\S+\\) recorded seq ${backupSeq}.*; no anchor matched`));
  const without = await cliVerify();
  t.is(without.code, 0, 'without the backup key the manifests cannot be read');
  t.regex(without.stdout, /no anchor file at .*\n.*backup manifests not read/s);
});

test.serial('after a restore the old anchor file is set aside and later snapshots taken before the restore are no longer compared', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pk-audit-restore-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'audit'));
  await writeAnchorFile(anchorFilePath(dir), { format: 'praxiskern-audit-anchors/1', chains: {} });
  await recordRestore(dir, { snapshotId: '20270101T020000Z-0001ab', restoredAt: '2027-01-05T10:00:00.000Z' });
  t.false(existsSync(anchorFilePath(dir)));
  t.true(readdirSync(path.join(dir, 'audit')).some((f) => /^anchors\.retired-.*\.json$/.test(f)));
  const restores = await readRestoreRecords(dir);
  t.deepEqual(restores, [{ snapshotId: '20270101T020000Z-0001ab', restoredAt: '2027-01-05T10:00:00.000Z' }]);
  t.true(supersededByRestore('20270103T020000Z-0002cd', '2027-01-03T02:01:00.000Z', restores), 'taken after the restored snapshot, before the restore');
  t.false(supersededByRestore('20270101T020000Z-0001ab', '2027-01-01T02:01:00.000Z', restores), 'the restored snapshot itself still counts');
  t.false(supersededByRestore('20261230T020000Z-0003ef', '2026-12-30T02:01:00.000Z', restores), 'older snapshots still count');
  t.false(supersededByRestore('20270106T020000Z-0004ab', '2027-01-06T02:01:00.000Z', restores), 'snapshots after the restore count');
});
