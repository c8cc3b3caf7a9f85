// State of the backup page as a rune class: status and snapshots from the API, and the one backup
// or drill job this page follows. Starting a job answers 202 with its id; the page then polls the
// job list until the job has ended and reloads status and snapshots.
import { api, ApiError, type BackupJob, type BackupSnapshot, type BackupStatus } from '#lib/api.ts';
import { i18n, t } from '#lib/i18n/i18n.svelte.ts';
import { describeError } from '#lib/state/form.svelte.ts';

export type JobKind = 'backup' | 'drill';

/** How often a running job is looked at. */
const POLL_MS = 1000;

/** A server error code with its own message (backup.error.<code>), else the general description. */
export function describeBackupError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 409 && err.code === 'conflict' && /running/.test(err.message)) return t('backup.busy');
    const own = i18n.lookup(`backup.error.${err.code}`);
    if (own) return own;
  }
  return describeError(err);
}

export class BackupPageState {
  status = $state<BackupStatus | null>(null);
  snapshots = $state<BackupSnapshot[]>([]);
  loadError = $state<string | null>(null);
  loading = $state(false);
  /** The job this page follows until it ends. */
  job = $state<{ id: string; kind: JobKind; since: number } | null>(null);
  /** The outcome of the last followed job, for the status message. */
  outcome = $state<{ kind: JobKind; ok: boolean; error: string | null } | null>(null);
  startError = $state<string | null>(null);
  starting = $state(false);
  /** A requested job the worker has not started yet (it runs backups and drills, not the API). */
  queued = $state<JobKind | null>(null);
  /** Ticks while a job runs, for the elapsed seconds. */
  now = $state(Date.now());

  /** Another backup job (e.g. the nightly one or a verification) that this page did not start. */
  otherRunning = $derived((this.status?.running ?? []).some((j) => j.id !== this.job?.id));
  busy = $derived(this.starting || this.job !== null || this.queued !== null || this.otherRunning);
  /** Recovery-kit files the worker found on the server: shown as a warning banner. */
  kitFilesOnServer = $derived(this.status?.recoveryKitFilesOnServer ?? []);
  elapsedSeconds = $derived(this.job ? Math.max(0, Math.round((this.now - this.job.since) / 1000)) : 0);

  #timer: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;

  /** Snapshots of one target, newest first (as the API lists them). */
  snapshotsOf(target: string): BackupSnapshot[] {
    return this.snapshots.filter((s) => s.target === target);
  }

  async load(): Promise<void> {
    this.loading = true;
    try {
      const [status, { snapshots }] = await Promise.all([api.backupStatus(), api.backupSnapshots()]);
      this.status = status;
      this.snapshots = snapshots;
      this.loadError = null;
      // Follow a backup or drill that is already running (started elsewhere or before a reload).
      const running = status.running.find((j) => j.kind === 'backup' || j.kind === 'drill');
      if (!this.job && running) this.#follow(running);
    } catch (err) {
      this.loadError = describeBackupError(err);
    } finally {
      this.loading = false;
    }
  }

  async start(kind: JobKind): Promise<void> {
    if (this.busy) return;
    this.starting = true;
    this.startError = null;
    this.outcome = null;
    try {
      const { jobId } = kind === 'backup' ? await api.startBackup() : await api.startDrill();
      if (jobId) {
        this.job = { id: jobId, kind, since: Date.now() };
        this.#schedule();
      } else {
        this.queued = kind;
        this.#timer = setTimeout(() => void this.#pollQueued(), POLL_MS);
      }
    } catch (err) {
      this.startError = describeBackupError(err);
    } finally {
      this.starting = false;
    }
  }

  /** Stops polling (the page was left). */
  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#timer);
  }

  #follow(j: BackupJob): void {
    const since = j.startedAt ? Date.parse(j.startedAt) : Date.now();
    this.job = { id: j.id, kind: j.kind as JobKind, since: Number.isNaN(since) ? Date.now() : since };
    this.#schedule();
  }

  /** While the request waits for the worker: reload the status; load() follows the job once it runs. */
  async #pollQueued(): Promise<void> {
    if (this.#disposed) return;
    await this.load();
    if (this.job || !(this.status?.requests ?? []).length) {
      this.queued = null;
      return;
    }
    this.#timer = setTimeout(() => void this.#pollQueued(), POLL_MS);
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    if (this.#disposed) return;
    this.#timer = setTimeout(() => void this.#poll(), POLL_MS);
  }

  async #poll(): Promise<void> {
    const job = this.job;
    if (!job || this.#disposed) return;
    this.now = Date.now();
    try {
      const { jobs } = await api.backupJobs({ kind: job.kind, limit: 20 });
      const current = jobs.find((j) => j.id === job.id);
      if (current && current.status !== 'running') {
        this.job = null;
        this.outcome = { kind: job.kind, ok: current.status === 'succeeded', error: current.error };
        await this.load();
        return;
      }
    } catch {
      /* a lost poll is retried on the next tick; the status stays "running" */
    }
    this.#schedule();
  }
}
