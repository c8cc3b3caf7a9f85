// Child process of the sequencer kill -9 test (not a test file): runs sequencer batches against the
// test database, each in an explicit transaction that it holds open for a moment after chaining,
// and reports "B <n>" once a batch has chained n entries (not committed yet) and "C <n>" after
// the commit. With PK_CHILD.drain it exits when nothing waits. Configuration in PK_CHILD (JSON).
import { createDb } from '../../app/api/src/db/connection.ts';
import { sequenceBatch } from '../../app/api/src/modules/audit/audit.repository.ts';

const cfg = JSON.parse(process.env.PK_CHILD!) as { appUrl: string; batch: number; holdMs: number; drain?: boolean };
const db = createDb(cfg.appUrl, 1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
process.stdout.write('READY\n');
for (;;) {
  const r = await db.transaction(async (trx) => {
    const r = await sequenceBatch(trx, cfg.batch);
    process.stdout.write(`B ${r.chained}\n`);
    if (r.chained) await sleep(Math.random() * cfg.holdMs);
    return r;
  });
  process.stdout.write(`C ${r.chained}\n`);
  if (cfg.drain && !r.busy && r.chained === 0) break;
  if (r.chained < cfg.batch) await sleep(10);
}
await db.destroy();
process.exit(0);
