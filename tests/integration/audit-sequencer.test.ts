// Audit entries no longer serialize the transactions of one organization: they are inserted
// unchained and the sequencer links them after commit. Reads go on when no sequencer runs; the
// wait shows in the metrics and in `audit verify`; an edit of a waiting entry is found and never
// sealed into the chain; a read whose entry cannot be written fails as a whole.
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { createDb, withScope, type Db } from '../../app/api/src/db/connection.ts';
import { sequenceBatch, waitingStatus } from '../../app/api/src/modules/audit/audit.repository.ts';
import { audit } from '../../app/api/src/modules/audit/audit.service.ts';
import { AuditSequencer } from '../../app/api/src/modules/audit/sequencer.service.ts';
import { verifyAuditChains } from '../../app/api/src/modules/audit/audit.verify.ts';
import { setupInstance, startTestApp, waitForWorkerUnsealed, type TestApp } from '../helpers/app.ts';
import { waitForChained } from '../helpers/audit.ts';
import type { Client } from '../helpers/http-client.ts';
import { metricValue } from './backup-fixtures.ts';

const run = promisify(execFile);
let app: TestApp;
let admin: Client;
let orgId: string;
let userId: string;
let owner: Db;

// No sequencer in the app: each test decides when entries are chained.
test.before(async () => {
  app = await startTestApp({ PRAXISKERN_AUDIT_SEQUENCER: 'false' });
  const s = await setupInstance(app);
  admin = s.client;
  orgId = s.organizationId;
  userId = s.userId;
  owner = createDb(app.db.ownerUrl, 2);
  // The worker (no sequencer either) records its forwarded unseal shortly after setup: let it land
  // before the tests count waiting entries.
  await waitForWorkerUnsealed(app, owner);
});

test.after.always(async () => {
  await owner?.destroy();
  await app?.stop();
  await app?.db.drop();
});

async function superuser(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: app.db.superuserUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function chainAll(): Promise<void> {
  const s = new AuditSequencer(app.services.db);
  await s.drain();
  await waitForChained(app.services.db);
}

test.serial('two transactions of one organization, each holding an uncommitted audited read, do not wait for each other', async (t) => {
  await chainAll();
  const scope = { organizationId: orgId, userId };
  const read = (trx: Parameters<typeof audit>[0], objectId: string) =>
    audit(trx, { action: 'patient.read', objectType: 'patient', objectId, organizationId: orgId, actorUserId: userId });
  let releaseFirst!: () => void;
  const firstMayCommit = new Promise<void>((r) => (releaseFirst = r));
  let firstWrote!: () => void;
  const firstHasEntry = new Promise<void>((r) => (firstWrote = r));
  const first = withScope(app.services.db, scope, async (trx) => {
    await read(trx, 'first');
    firstWrote();
    await firstMayCommit;
  });
  t.teardown(async () => {
    releaseFirst();
    await first.catch(() => undefined);
  });
  await firstHasEntry;
  // The second transaction writes its entry and commits while the first still holds its entry open.
  const second = withScope(app.services.db, scope, async (trx) => {
    await read(trx, 'second');
    await read(trx, 'second-again');
  }).then(() => 'committed');
  const outcome = await Promise.race([second, new Promise((r) => setTimeout(() => r('still waiting after 10 s'), 10_000))]);
  t.is(outcome, 'committed');
  // The sequencer runs while the first transaction (the lower insert id) is still open: it chains
  // what has committed and does not skip the open one; that one is taken once it commits.
  t.like(await sequenceBatch(app.services.db, 100), { chained: 2 });
  releaseFirst();
  await first;
  t.like(await sequenceBatch(app.services.db, 100), { chained: 1 });
  const rows = await owner('audit_log').where({ organization_id: orgId }).whereIn('object_id', ['first', 'second', 'second-again']).orderBy('seq').select('object_id', 'id');
  t.deepEqual(rows.map((r) => r.object_id), ['second', 'second-again', 'first'], 'chained in the order the transactions committed');
  t.true(Number(rows[2].id) < Number(rows[0].id), 'the late entry has the lower insert id');
  t.true((await verifyAuditChains(owner)).ok);
});

test.serial('reads go on without a sequencer; the waiting entries show in the metrics and audit verify fails past the bound', async (t) => {
  await chainAll();
  for (let i = 0; i < 3; i++) t.is((await admin.get('/api/v1/audit?limit=5')).status, 200);
  const s = await waitingStatus(app.services.db);
  t.is(s.waiting, 3);
  t.is(await metricValue(app.services, 'praxiskern_audit_waiting_entries'), 3);
  const lag = (await metricValue(app.services, 'praxiskern_audit_sequencer_lag_seconds'))!;
  t.true(lag > 0, `lag ${lag}`);

  const within = await verifyAuditChains(owner, [], { maxWaitSeconds: 600 });
  t.true(within.ok, JSON.stringify(within.problems));
  t.is(within.waiting.waiting, 3);
  const past = await verifyAuditChains(owner, [], { maxWaitSeconds: 0 });
  t.false(past.ok);
  t.like(past.problems.at(-1), { kind: 'waiting', id: s.oldestId, organizationId: orgId });

  const env = { ...process.env, DATABASE_URL: app.db.appUrl, DATABASE_OWNER_URL: app.db.ownerUrl, PRAXISKERN_DATA_DIR: app.dataDir, LOG_LEVEL: 'silent' };
  const cli = await run('node_modules/.bin/node', ['appliance/src/cli.ts', 'audit', 'verify', '--max-wait', '0'], { env }).catch((e) => e);
  t.is(cli.code, 1);
  t.regex(cli.stderr, new RegExp(`audit entries wait too long for chaining \\(oldest: entry id ${s.oldestId}, organization ${orgId}\\): 3 entries wait`));
  const ok = await run('node_modules/.bin/node', ['appliance/src/cli.ts', 'audit', 'verify'], { env });
  t.regex(ok.stdout, /Audit log intact: .* 3 entries wait for chaining \(oldest \d+\.\d s, bound 60 s\)\./);

  await chainAll();
  t.is(await metricValue(app.services, 'praxiskern_audit_waiting_entries'), 0);
  t.is(await metricValue(app.services, 'praxiskern_audit_sequencer_lag_seconds'), 0);
});

test.serial('an edit of an entry still waiting for chaining is named by verify and never sealed into the chain', async (t) => {
  await chainAll();
  t.is((await admin.get('/api/v1/audit?limit=1')).status, 200);
  const entry = await owner('audit_log').whereNull('seq').first('id', 'details');
  await superuser(`alter table audit_log disable trigger user; update audit_log set details = '{"count":999}' where id = ${entry.id}; alter table audit_log enable trigger user`);
  const r = await verifyAuditChains(owner);
  t.false(r.ok);
  t.like(r.problems[0], { id: String(entry.id), kind: 'entry', organizationId: orgId });
  t.regex(r.problems[0].reason, /waiting for chaining, and its content does not match the hash it got at insert \(edited\)/);

  t.like(await sequenceBatch(app.services.db, 100), { chained: 0, refused: 1, busy: false });
  t.is((await owner('audit_log').where({ id: entry.id }).first('seq')).seq, null, 'the sequencer refuses to chain it');
  // Not even the owner can chain it by hand: the append-only trigger checks the content hash.
  await t.throwsAsync(owner.raw(`update audit_log a set seq = 1000, prev_hash = repeat('0', 64), hash = audit_entry_hash(a) where id = ?`, [entry.id]), { message: /does not match its content hash/ });
  // A refused entry takes no place in a batch: the entries behind it are chained even one at a time.
  t.is((await admin.get('/api/v1/audit?limit=1')).status, 200);
  t.like(await sequenceBatch(app.services.db, 1), { chained: 1, refused: 1, busy: false });

  await superuser(`alter table audit_log disable trigger user; update audit_log set details = '${JSON.stringify(entry.details)}' where id = ${entry.id}; alter table audit_log enable trigger user`);
  t.like(await sequenceBatch(app.services.db, 100), { chained: 1, refused: 0 });
  t.true((await verifyAuditChains(owner)).ok);
});

test.serial('the owner can neither edit a waiting entry nor chain one out of turn', async (t) => {
  await chainAll();
  t.is((await admin.get('/api/v1/audit?limit=1')).status, 200);
  const entry = await owner('audit_log').whereNull('seq').first('id');
  await t.throwsAsync(owner('audit_log').where({ id: entry.id }).update({ action: 'forged' }), { message: /append-only/ });
  await t.throwsAsync(owner('audit_log').where({ id: entry.id }).delete(), { message: /append-only/ });
  const head = Number((await owner('audit_log').where({ organization_id: orgId }).max('seq as m').first())!.m);
  await t.throwsAsync(
    owner.raw(`update audit_log a set seq = ?, prev_hash = repeat('1', 64), hash = audit_entry_hash(a) where id = ?`, [head + 5, entry.id]),
    { message: /does not follow the head of its chain/ },
  );
  await chainAll();
  t.true((await verifyAuditChains(owner)).ok);
});

test.serial('a read whose audit entry cannot be written fails as a whole and returns no data', async (t) => {
  await superuser(`alter table audit_log add constraint test_refuse_reads check (action <> 'audit.read') not valid`);
  try {
    const res = await admin.get('/api/v1/audit?limit=5');
    t.not(res.status, 200);
    t.is(res.body.entries, undefined, 'no entries leave without their audit entry');
  } finally {
    await superuser('alter table audit_log drop constraint test_refuse_reads');
  }
  t.is((await admin.get('/api/v1/audit?limit=5')).status, 200);
});
