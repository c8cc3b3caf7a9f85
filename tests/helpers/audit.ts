// Audit entries are chained by the sequencer shortly after commit: tests that look at seq, hash
// or the anchors wait (with a deadline) until nothing waits any more.
import type { Db } from '../../app/api/src/db/connection.ts';
import { waitingStatus } from '../../app/api/src/modules/audit/audit.repository.ts';

export async function waitForChained(db: Db, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await waitingStatus(db);
    if (s.waiting === 0) return;
    if (Date.now() > deadline) throw new Error(`${s.waiting} audit entries still wait for chaining after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
