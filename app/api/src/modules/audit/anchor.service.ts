// The anchor writer: shortly after the sequencer chained audit entries (debounced, off the
// request path), it reads every chain's head in one round trip and advances the anchor file; a
// Prometheus gauge carries each chain's length. An anchor only ever moves forward along the same
// chain: if the entry it recorded is gone or changed, the writer keeps the old anchor, logs it and
// raises praxiskern_audit_anchor_mismatch, so `praxiskern audit verify` still sees the evidence.
import { CoalescedTask } from '../../core/coalesced-task.ts';
import type { Registry } from 'prom-client';
import { rootLogger } from '../../core/logger.ts';
import type { Db } from '../../db/connection.ts';
import {
  AnchorFileError, anchorFilePath, chainKey, emptyAnchorFile, readAnchorFile, retireAnchorFile, writeAnchorFile, type AnchorFile,
} from './anchor-file.repository.ts';
import { chainHeads, type ChainHead } from './audit.repository.ts';
import { auditChainedListeners } from './audit.service.ts';
import { anchorMetrics, type AnchorMetrics } from './metrics.ts';

export interface AnchorFlushResult {
  changed: boolean;
  mismatches: { organizationId: string | null; anchoredSeq: number; headSeq: number | null }[];
}

/** Applies the heads to the anchors: forward along the same chain only. */
export function advanceAnchors(file: AnchorFile, heads: ChainHead[], now: Date): AnchorFlushResult & { next: AnchorFile } {
  const next: AnchorFile = { ...file, chains: { ...file.chains } };
  const result: AnchorFlushResult = { changed: false, mismatches: [] };
  for (const h of heads) {
    const key = chainKey(h.organizationId);
    const prev = next.chains[key];
    if (prev && h.anchoredHash !== prev.hash) {
      result.mismatches.push({ organizationId: h.organizationId, anchoredSeq: prev.seq, headSeq: h.headSeq });
      continue;
    }
    if (h.headSeq !== null && h.headHash !== null && (!prev || h.headSeq > prev.seq)) {
      next.chains[key] = { organizationId: h.organizationId, seq: h.headSeq, hash: h.headHash, at: now.toISOString() };
      result.changed = true;
    }
  }
  return { ...result, next };
}

/** Two writers (app and worker share the data directory): keep, per chain, the anchor further along. */
function merge(ours: AnchorFile, theirs: AnchorFile | undefined): AnchorFile {
  if (!theirs) return ours;
  const chains = { ...ours.chains };
  for (const [key, a] of Object.entries(theirs.chains)) if (!chains[key] || chains[key].seq < a.seq) chains[key] = a;
  return { ...ours, chains };
}

const reportWriteFailure = (err: unknown) => rootLogger.error({ err: (err as Error).message }, 'writing the audit anchor file failed');

export class AuditAnchorWriter {
  readonly file: string;
  readonly metrics: AnchorMetrics;
  #db: Db;
  #task: CoalescedTask;
  #reported = new Set<string>();
  /** What this process last wrote: a deleted or replaced file does not make it forget its anchors. */
  #known: AnchorFile = emptyAnchorFile();

  constructor(db: Db, dataDir: string, registry: Registry, opts: { debounceMs?: number; intervalMs?: number } = {}) {
    this.#db = db;
    this.file = anchorFilePath(dataDir);
    this.metrics = anchorMetrics(registry);
    this.#task = new CoalescedTask(async () => {
      await this.#flushOnce();
      return 0;
    }, { delayMs: opts.debounceMs ?? 250, intervalMs: opts.intervalMs ?? 30_000, onError: reportWriteFailure });
  }

  /** Listens for newly chained audit entries; also confirms the anchors every interval (other processes write too). */
  start(): this {
    auditChainedListeners.add(this.#task.poke);
    this.#task.start();
    return this;
  }

  schedule(): void {
    this.#task.schedule();
  }

  /** Reads the heads and advances the anchors now; concurrent calls coalesce into one more run. */
  async flush(): Promise<void> {
    await this.#task.run();
  }

  async #flushOnce(): Promise<void> {
    const file = merge(this.#known, await this.#readOrRetire());
    const heads = await chainHeads(this.#db, Object.values(file.chains));
    const r = advanceAnchors(file, heads, new Date());
    for (const h of heads) this.metrics.chainLength.set({ organization_id: chainKey(h.organizationId) }, h.headSeq ?? 0);
    const bad = new Set(r.mismatches.map((m) => chainKey(m.organizationId)));
    for (const h of heads) this.metrics.mismatch.set({ organization_id: chainKey(h.organizationId) }, bad.has(chainKey(h.organizationId)) ? 1 : 0);
    for (const m of r.mismatches) {
      const key = `${chainKey(m.organizationId)}:${m.anchoredSeq}`;
      if (this.#reported.has(key)) continue;
      this.#reported.add(key);
      rootLogger.error({ organizationId: m.organizationId, anchoredSeq: m.anchoredSeq, headSeq: m.headSeq }, 'audit chain no longer holds the entry its anchor recorded: entries were deleted or rewritten; run "praxiskern audit verify"');
    }
    const onDisk = await this.#readOrRetire();
    const next = merge(r.next, onDisk);
    if (r.changed || JSON.stringify(onDisk?.chains) !== JSON.stringify(next.chains)) await writeAnchorFile(this.file, next);
    this.#known = next;
    this.metrics.written.set(Date.now() / 1000);
  }

  /** A damaged file is kept aside as evidence (never silently overwritten); the anchors in memory carry on. */
  async #readOrRetire(): Promise<AnchorFile | undefined> {
    try {
      return await readAnchorFile(this.file);
    } catch (err) {
      if (!(err instanceof AnchorFileError)) throw err;
      const kept = await retireAnchorFile(this.file, `damaged-${Date.now()}`);
      rootLogger.error({ err: err.message, keptAs: kept }, 'the audit anchor file was damaged; kept it aside and rewrote it from memory');
      return undefined;
    }
  }

  /** Writes a last time, so the anchors are current when the process ends. */
  async stop(): Promise<void> {
    auditChainedListeners.delete(this.#task.poke);
    await this.#task.stop();
    await this.flush().catch(reportWriteFailure);
  }
}
