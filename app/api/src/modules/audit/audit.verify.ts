// Verifies every hash chain: an edited row fails its hash, a deleted row leaves a gap in seq,
// a reordered row breaks the prev_hash link. Entries still waiting for the sequencer are checked
// against the content hash they got at insert, counted, and fail the check when the oldest waits
// longer than the bound. Then the anchors kept outside the database (the anchor file, backup
// manifests): a chain shorter than an anchor lost its newest entries; a chain whose entry differs
// from an anchor's hash was rewritten (even with every hash recomputed in SQL).
// Runs as the owner role (reads all organizations).
import type { Db } from '../../db/connection.ts';
import { chainOrganizations, firstTamperedEntry, readChain, waitingStatus, type TamperedEntry, type WaitingStatus } from './audit.repository.ts';

export interface AnchorSource {
  /** Where the anchors come from, for the report ("anchor file /…/anchors.json", "backup local/2027…"). */
  name: string;
  anchors: { organizationId: string | null; seq: number; hash: string; at?: string }[];
}

export interface MatchedAnchor {
  source: string;
  seq: number;
  at?: string;
}

export interface ChainProblem {
  organizationId: string | null;
  /** The first bad entry; null when the entries an anchor recorded are gone. */
  id: string | null;
  seq: number;
  kind: 'entry' | 'truncated' | 'rewritten' | 'waiting';
  reason: string;
  /** The newest anchor this chain still agrees with. */
  lastMatchedAnchor?: MatchedAnchor;
}

export interface VerifyResult {
  ok: boolean;
  chains: number;
  entries: number;
  problems: ChainProblem[];
  anchors: { sources: string[]; checked: number; matched: number };
  /** Entries not chained yet, and the bound the oldest of them may wait. */
  waiting: WaitingStatus & { maxSeconds: number };
}

/** Default bound for `audit verify`: an entry waiting longer means the sequencer is not keeping up. */
export const DEFAULT_MAX_WAIT_SECONDS = 60;

const GENESIS = '0'.repeat(64);

interface Expected {
  source: string;
  hash: string;
  at?: string;
}

/** Anchors per chain and seq. */
function indexAnchors(sources: AnchorSource[]): Map<string | null, Map<number, Expected[]>> {
  const byChain = new Map<string | null, Map<number, Expected[]>>();
  for (const s of sources) {
    for (const a of s.anchors) {
      let chain = byChain.get(a.organizationId);
      if (!chain) byChain.set(a.organizationId, (chain = new Map()));
      const list = chain.get(a.seq) ?? [];
      list.push({ source: s.name, hash: a.hash, at: a.at });
      chain.set(a.seq, list);
    }
  }
  return byChain;
}

const describe = (e: Expected) => `${e.source}${e.at ? ` (${e.at})` : ''}`;

/** Walks one chain; returns its problem (if any), the entries read and the anchors it matched. */
async function verifyChain(db: Db, org: string | null, wanted: Map<number, Expected[]>) {
  let expectedSeq = 1;
  let prevHash = GENESIS;
  let entries = 0;
  let checked = 0;
  let lastMatched: MatchedAnchor | undefined;
  const problem = (p: Omit<ChainProblem, 'organizationId' | 'lastMatchedAnchor'>): ChainProblem => ({ organizationId: org, ...p, ...(lastMatched ? { lastMatchedAnchor: lastMatched } : {}) });
  for await (const row of readChain(db, org)) {
    entries++;
    const seq = Number(row.seq);
    let reason: string | undefined;
    if (seq !== expectedSeq) reason = seq > expectedSeq ? `entries ${expectedSeq}..${seq - 1} are missing (deleted)` : `sequence ${seq} out of order (reordered)`;
    else if (row.prev_hash !== prevHash) reason = 'link to the previous entry is broken (reordered or replaced)';
    if (reason) return { entries, checked, problem: problem({ id: row.id, seq, kind: 'entry', reason }) };
    for (const a of wanted.get(seq) ?? []) {
      checked++;
      if (a.hash !== row.hash) {
        const since = lastMatched ? `after seq ${lastMatched.seq}` : 'at or before this entry';
        return { entries, checked, problem: problem({ id: row.id, seq, kind: 'rewritten', reason: `entry seq ${seq} differs from what ${describe(a)} recorded: the chain was rewritten ${since}` }) };
      }
      if (!lastMatched || seq >= lastMatched.seq) lastMatched = { source: a.source, seq, ...(a.at ? { at: a.at } : {}) };
    }
    expectedSeq = seq + 1;
    prevHash = row.hash;
  }
  const end = expectedSeq - 1;
  const beyond = [...wanted.entries()].filter(([seq]) => seq > end).sort((a, b) => b[0] - a[0]);
  if (beyond.length) {
    const [seq, list] = beyond[0];
    checked += beyond.reduce((n, [, l]) => n + l.length, 0);
    return { entries, checked, problem: problem({ id: null, seq: end, kind: 'truncated', reason: `the chain ends at seq ${end} but ${describe(list[0])} recorded seq ${seq}: the newest entries were deleted` }) };
  }
  return { entries, checked, lastMatched };
}

function tamperedProblem(org: string | null, e: TamperedEntry): ChainProblem {
  const reason = !e.waiting
    ? 'content does not match its hash (edited)'
    : e.edited
      ? 'waiting for chaining, and its content does not match the hash it got at insert (edited)'
      : 'waiting for chaining, yet it carries chain fields the sequencer never gave it (forged)';
  return { organizationId: org, id: e.id, seq: e.seq === null ? 0 : Number(e.seq), kind: 'entry', reason };
}

/**
 * The first bad entry of a chain is the earliest inserted one that fails a check: its own hash
 * (chained or waiting part), or the first break of the links walked in seq order.
 */
function firstProblem(org: string | null, walked: ChainProblem | undefined, tampered: TamperedEntry | undefined): ChainProblem | undefined {
  if (!tampered) return walked;
  if (walked?.id && BigInt(walked.id) < BigInt(tampered.id)) return walked;
  return tamperedProblem(org, tampered);
}

async function lagProblem(db: Db, waiting: WaitingStatus, maxSeconds: number): Promise<ChainProblem | undefined> {
  if (waiting.oldestId === null || waiting.oldestSeconds <= maxSeconds) return undefined;
  const row = await db('audit_log').where({ id: waiting.oldestId }).first('organization_id');
  return {
    organizationId: row?.organization_id ?? null, id: waiting.oldestId, seq: 0, kind: 'waiting',
    reason: `${waiting.waiting} entries wait for chaining; the oldest has waited ${Math.round(waiting.oldestSeconds)} s (bound ${maxSeconds} s): the sequencer is not running or refuses it`,
  };
}

/** One snapshot for the whole check: entries the sequencer chains meanwhile are neither missed nor counted twice. */
export async function verifyAuditChains(db: Db, sources: AnchorSource[] = [], opts: { maxWaitSeconds?: number } = {}): Promise<VerifyResult> {
  return db.transaction((trx) => verifyInSnapshot(trx, sources, opts.maxWaitSeconds ?? DEFAULT_MAX_WAIT_SECONDS), { isolationLevel: 'repeatable read', readOnly: true });
}

async function verifyInSnapshot(db: Db, sources: AnchorSource[], maxSeconds: number): Promise<VerifyResult> {
  const waiting = await waitingStatus(db);
  const result: VerifyResult = {
    ok: true, chains: 0, entries: waiting.waiting, problems: [],
    anchors: { sources: sources.map((s) => s.name), checked: 0, matched: 0 }, waiting: { ...waiting, maxSeconds },
  };
  const anchors = indexAnchors(sources);
  const orgs = new Set<string | null>([...(await chainOrganizations(db)), ...anchors.keys()]);
  for (const org of orgs) {
    result.chains++;
    const r = await verifyChain(db, org, anchors.get(org) ?? new Map());
    result.entries += r.entries;
    result.anchors.checked += r.checked;
    const problem = firstProblem(org, r.problem, await firstTamperedEntry(db, org));
    if (problem) {
      result.ok = false;
      result.problems.push(problem);
    } else result.anchors.matched += r.checked;
  }
  const lag = await lagProblem(db, waiting, maxSeconds);
  if (lag) {
    result.ok = false;
    result.problems.push(lag);
  }
  return result;
}
