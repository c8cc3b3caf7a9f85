// The audit sequencer: shortly after entries commit, it gives them their seq and links their hash
// into their organization's chain (audit_sequence in PostgreSQL: one batch per transaction, one
// sequencer at a time through an advisory lock, so the app and the worker may both run one).
// It wakes shortly after this process commits audit entries and polls for entries other processes
// committed. If it stops, reads go on; the waiting entries show in the lag metric (alert
// AuditSequencerLagging) and in `praxiskern audit verify`.
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
  #intervalMs: number;
  #wakeMs: number;
  #batch: number;
  #timer: NodeJS.Timeout | undefined;
  #interval: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;
  #again = false;
  #refusedLogged = 0;
  readonly #listener = () => this.schedule();

  constructor(db: Db, opts: SequencerOptions = {}) {
    this.#db = db;
    this.#intervalMs = opts.intervalMs ?? 250;
    this.#wakeMs = opts.wakeMs ?? 50;
    this.#batch = opts.batch ?? 2000;
  }

  start(): this {
    auditCommitListeners.add(this.#listener);
    this.#interval = setInterval(this.#listener, this.#intervalMs);
    this.#interval.unref();
    this.schedule();
    return this;
  }

  schedule(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.drain().catch((err) => rootLogger.error({ err: (err as Error).message }, 'audit sequencer batch failed; retrying'));
    }, this.#wakeMs);
    this.#timer.unref();
  }

  /** Chains everything waiting now (batch after batch); returns the entries chained. Calls coalesce. */
  async drain(): Promise<number> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      let total = 0;
      do {
        this.#again = false;
        total += await this.#drainOnce();
      } while (this.#again);
      return total;
    })().finally(() => (this.#running = undefined));
    return this.#running;
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
    auditCommitListeners.delete(this.#listener);
    clearInterval(this.#interval);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }
}
