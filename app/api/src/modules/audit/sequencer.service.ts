// The audit sequencer: shortly after entries commit, it gives them their seq and links their hash
// into their organization's chain (audit_sequence in PostgreSQL: one batch per transaction, one
// sequencer at a time through an advisory lock, so the app and the worker may both run one).
// It wakes shortly after this process commits audit entries and polls for entries other processes
// committed. If it stops, reads go on; the waiting entries show in the lag metric (alert
// AuditSequencerLagging) and in `praxiskern audit verify`.
import { CoalescedTask } from '../../core/coalesced-task.ts';
import { rootLogger } from '../../core/logger.ts';
import type { Db } from '../../db/connection.ts';
import { sequenceBatch } from './audit.repository.ts';
import { auditChainedListeners, auditCommitListeners } from './audit.service.ts';

export interface SequencerOptions {
  /** Poll interval for entries committed elsewhere. */
  intervalMs?: number;
  /** Delay after a local commit, so that commits close together share a batch. */
  wakeMs?: number;
  /** Entries per transaction. */
  batch?: number;
}

export class AuditSequencer {
  #db: Db;
  #batch: number;
  #task: CoalescedTask;
  #refusedLogged = 0;

  constructor(db: Db, opts: SequencerOptions = {}) {
    this.#db = db;
    this.#batch = opts.batch ?? 2000;
    this.#task = new CoalescedTask(() => this.#drainOnce(), {
      delayMs: opts.wakeMs ?? 50,
      intervalMs: opts.intervalMs ?? 250,
      onError: (err) => rootLogger.error({ err: (err as Error).message }, 'audit sequencer batch failed; retrying'),
    });
  }

  start(): this {
    auditCommitListeners.add(this.#task.poke);
    this.#task.start();
    return this;
  }

  schedule(): void {
    this.#task.schedule();
  }

  /** Chains everything waiting now (batch after batch); returns the entries chained. Calls coalesce. */
  drain(): Promise<number> {
    return this.#task.run();
  }

  async #drainOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const r = await sequenceBatch(this.#db, this.#batch);
      total += r.chained;
      this.#reportRefused(r.refused);
      if (r.busy || r.chained < this.#batch) break;
    }
    if (total) for (const l of auditChainedListeners) l();
    return total;
  }

  /** Logged when the number of refused entries changes, not on every poll. */
  #reportRefused(refused: number): void {
    if (refused === this.#refusedLogged) return;
    this.#refusedLogged = refused;
    if (refused) rootLogger.error({ refused }, 'audit entries waiting for chaining no longer match the hash they got at insert; they stay unchained: run "praxiskern audit verify"');
  }

  async stop(): Promise<void> {
    auditCommitListeners.delete(this.#task.poke);
    await this.#task.stop();
  }
}
