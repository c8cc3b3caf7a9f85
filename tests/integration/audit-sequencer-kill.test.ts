// kill -9 of the sequencing process during a concurrent write load (in a child process, at least
// ten times, while a batch has chained entries and not yet committed) loses and skips nothing:
// afterwards every committed entry is chained exactly once, the chains verify, and the number of
// entries equals the number of committed audited actions (rolled-back ones left none).
import test from 'ava';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createDb, withScope, type Db } from '../../app/api/src/db/connection.ts';
import { audit } from '../../app/api/src/modules/audit/audit.service.ts';
import { verifyAuditChains } from '../../app/api/src/modules/audit/audit.verify.ts';
import { setupInstance, startTestApp, type TestApp } from '../helpers/app.ts';

let app: TestApp;
let orgId: string;
let userId: string;
let owner: Db;

// The app runs no sequencer: the child is the only one.
test.before(async () => {
  app = await startTestApp({ PRAXISKERN_AUDIT_SEQUENCER: 'false' });
  ({ organizationId: orgId, userId } = await setupInstance(app));
  owner = createDb(app.db.ownerUrl, 2);
});
test.after.always(async () => {
  await owner?.destroy();
  await app?.stop();
  await app?.db.drop();
});

interface Load {
  committed: number;
  stop(): Promise<void>;
}

/** `workers` loops of small transactions in the organization's and the installation's chain; one in eight rolls back. */
function writeLoad(workers: number): Load {
  let running = true;
  const load = { committed: 0 } as Load;
  const loop = async (w: number) => {
    for (let i = 0; running; i++) {
      const installation = i % 5 === 0;
      const entries = 1 + (i % 3);
      const rollback = i % 8 === 7;
      try {
        await withScope(app.services.db, installation ? { organizationId: null, installation: true } : { organizationId: orgId, userId }, async (trx) => {
          for (let e = 0; e < entries; e++) {
            await audit(trx, { action: 'load.write', objectType: 'load', objectId: `${w}-${i}-${e}`, organizationId: installation ? null : orgId, actorUserId: userId });
          }
          if (rollback) throw new Error('rolled back on purpose');
        });
        load.committed += entries;
      } catch (err) {
        if (!rollback) throw err;
      }
    }
  };
  const loops = Array.from({ length: workers }, (_, w) => loop(w));
  load.stop = async () => {
    running = false;
    await Promise.all(loops);
  };
  return load;
}

function child(opts: { drain?: boolean; batch: number; holdMs: number }) {
  return spawn(process.execPath, [path.resolve('tests/integration/audit-sequencer-child.ts')], {
    env: { ...process.env, LOG_LEVEL: 'silent', PK_CHILD: JSON.stringify({ appUrl: app.db.appUrl, ...opts }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** Runs the child; SIGKILLs it right after its `afterBatches`-th batch has chained entries, before that batch commits. */
function killMidBatch(afterBatches: number): Promise<{ killedMidBatch: boolean; committedBatches: number }> {
  const c = child({ batch: 200, holdMs: 100 });
  let chainedBatches = 0;
  let committedBatches = 0;
  let killedMidBatch = false;
  createInterface({ input: c.stdout! }).on('line', (line) => {
    const [kind, n] = line.split(' ');
    if (kind === 'C' && Number(n) > 0) committedBatches++;
    // "B n": the batch has chained n entries and waits before its commit.
    if (kind === 'B' && Number(n) > 0 && ++chainedBatches > afterBatches && !killedMidBatch) {
      killedMidBatch = c.kill('SIGKILL');
    }
  });
  return new Promise((resolve) => c.on('exit', () => resolve({ killedMidBatch, committedBatches })));
}

test.serial('kill -9 of the sequencer mid-batch, 12 times under a write load: nothing committed is lost or skipped, the chains verify', async (t) => {
  const load = writeLoad(6);
  let midBatch = 0;
  let committedBatches = 0;
  try {
    for (let trial = 0; trial < 12; trial++) {
      const r = await killMidBatch(trial % 3);
      if (r.killedMidBatch) midBatch++;
      committedBatches += r.committedBatches;
    }
  } finally {
    await load.stop();
  }
  t.log(`${load.committed} entries committed by the load; ${midBatch} kills mid-batch; ${committedBatches} batches committed between kills`);
  t.true(midBatch >= 10, `${midBatch} of 12 kills landed while a batch was open`);
  t.true(committedBatches > 0, 'batches committed between the kills');

  // A fresh sequencer takes over where the killed ones left off.
  const last = child({ drain: true, batch: 500, holdMs: 0 });
  await new Promise((r) => last.on('exit', r));
  const waiting = await owner('audit_log').whereNull('seq').count('* as n').first();
  t.is(Number(waiting!.n), 0, 'every committed entry is chained');
  const [{ n: entries }] = await owner('audit_log').where({ action: 'load.write' }).count('* as n');
  t.is(Number(entries), load.committed, 'one entry per committed audited action, none from rolled-back ones');
  const [{ n: distinct }] = await owner('audit_log').where({ action: 'load.write' }).countDistinct('object_id as n');
  t.is(Number(distinct), load.committed, 'no entry twice');
  const r = await verifyAuditChains(owner);
  t.true(r.ok, JSON.stringify(r.problems));
  t.is(r.waiting.waiting, 0);
});
