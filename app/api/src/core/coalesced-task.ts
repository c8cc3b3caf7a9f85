// A background task that runs shortly after it is poked (several pokes share one run), on an
// interval, and on demand; a call that arrives while it runs adds one more pass instead of running
// twice at once. The audit sequencer and the audit anchor writer use it.
export interface CoalescedTaskOptions {
  /** Delay after schedule(), so that pokes close together share a run. */
  delayMs: number;
  /** Runs at least this often (work another process caused). */
  intervalMs: number;
  /** A failed background run is reported here; the next poke or interval tries again. */
  onError: (err: unknown) => void;
}

export class CoalescedTask {
  #work: () => Promise<number>;
  #opts: CoalescedTaskOptions;
  #timer: NodeJS.Timeout | undefined;
  #interval: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;
  #again = false;
  /** Pass this to event sources: it schedules a run. */
  readonly poke = () => this.schedule();

  /** `work` returns how much it did; run() returns the sum over the passes it made. */
  constructor(work: () => Promise<number>, opts: CoalescedTaskOptions) {
    this.#work = work;
    this.#opts = opts;
  }

  start(): void {
    this.#interval = setInterval(this.poke, this.#opts.intervalMs);
    this.#interval.unref();
    this.schedule();
  }

  schedule(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.run().catch(this.#opts.onError);
    }, this.#opts.delayMs);
    this.#timer.unref();
  }

  /** Runs now, or joins the run in progress and makes it pass once more. */
  run(): Promise<number> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      let total = 0;
      do {
        this.#again = false;
        total += await this.#work();
      } while (this.#again);
      return total;
    })().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** No more timed runs; waits for the one in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#interval);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }
}
