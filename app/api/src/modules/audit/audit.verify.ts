// Verifies every hash chain: an edited row fails its hash, a deleted row leaves a gap in seq,
// a reordered row breaks the prev_hash link. Runs as the owner role (reads all organizations).
import type { Db } from '../../db/connection.ts';
import { chainOrganizations, readChain } from './audit.repository.ts';

export interface ChainProblem {
  organizationId: string | null;
  id: string;
  seq: number;
  reason: string;
}

export interface VerifyResult {
  ok: boolean;
  chains: number;
  entries: number;
  problems: ChainProblem[];
}

const GENESIS = '0'.repeat(64);

export async function verifyAuditChains(db: Db): Promise<VerifyResult> {
  const result: VerifyResult = { ok: true, chains: 0, entries: 0, problems: [] };
  for (const org of await chainOrganizations(db)) {
    result.chains++;
    let expectedSeq = 1;
    let prevHash = GENESIS;
    for await (const row of readChain(db, org)) {
      result.entries++;
      const seq = Number(row.seq);
      let reason: string | undefined;
      if (row.hash !== row.expected) reason = 'content does not match its hash (edited)';
      else if (seq !== expectedSeq) reason = seq > expectedSeq ? `entries ${expectedSeq}..${seq - 1} are missing (deleted)` : `sequence ${seq} out of order (reordered)`;
      else if (row.prev_hash !== prevHash) reason = 'link to the previous entry is broken (reordered or replaced)';
      if (reason) {
        result.ok = false;
        result.problems.push({ organizationId: org, id: row.id, seq, reason });
        break;
      }
      expectedSeq = seq + 1;
      prevHash = row.hash;
    }
  }
  return result;
}
