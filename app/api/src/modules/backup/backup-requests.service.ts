// Backups and drills requested through the API run in the worker. The API process has only the
// application role: it queues a request (backup_requests) and waits briefly until the worker has
// started the job, so the answer can carry the job id the UI follows. The worker, which holds the
// owner credentials, wakes on NOTIFY (and polls every PRAXISKERN_BACKUP_REQUEST_POLL_SECONDS in case
// a notification was missed), claims the request, runs the backup or drill exactly as a scheduled
// one, and records the outcome on the request; the job row carries the details.
import { conflict } from '../../core/errors.ts';
import { currentContext, runWithContext, systemContext } from '../../core/context.ts';
import { rootLogger } from '../../core/logger.ts';
import { createDb, type Db } from '../../db/connection.ts';
import type { Services } from '../../http/services.ts';
import { backupRuntime, reasonOf } from './backup-runtime.service.ts';
import * as repo from './backup-requests.repository.ts';
import { runDrill } from './drill.service.ts';
import { runBackup } from './snapshot.service.ts';
import { refreshTargets } from './targets-config.service.ts';

export interface QueuedRun {
  requestId: string;
  /** The job row's id once the worker has started it; null if it has not within the wait. */
  jobId: string | null;
  status: repo.RequestRow['status'];
}

const WAIT_STEP_MS = 100;

/** Queues a backup or drill for the worker; 409 while a backup job runs or another request is open. */
export async function queueRun(services: Services, kind: repo.RequestKind): Promise<QueuedRun> {
  const waitMs = services.config.backupRequestWaitSeconds * 1000;
  const db = services.db;
  const running = await db('backup_jobs').where({ status: 'running' }).whereIn('kind', ['backup', 'drill', 'verify', 'restore']).first('id');
  if (running) throw conflict('another backup, drill or verification is running; try again when it has finished');
  const id = await repo.insertRequest(db, kind, currentContext()?.actor?.userId ?? null);
  if (!id) throw conflict('a backup or drill is already queued for the worker; try again when it has finished');
  const deadline = Date.now() + waitMs;
  for (;;) {
    const row = await repo.getRequest(db, id);
    if (row && (row.job_id || row.status === 'succeeded' || row.status === 'failed')) {
      if (!row.job_id && row.status === 'failed') throw conflict(row.error ?? `${kind} could not start`);
      return { requestId: id, jobId: row.job_id, status: row.status };
    }
    if (Date.now() >= deadline) return { requestId: id, jobId: null, status: row?.status ?? 'queued' };
    await new Promise((r) => setTimeout(r, WAIT_STEP_MS));
  }
}

/**
 * Runs one claimed request in the worker; the outcome goes onto the request row. Returns false when
 * the backup lock was busy (a scheduled run, the start-up recovery): the request waits for the next poll.
 */
async function runRequest(services: Services, owner: Db, req: repo.RequestRow): Promise<boolean> {
  const rt = backupRuntime(services);
  // Targets added or changed in the admin UI since the last run.
  const refreshed = await refreshTargets(rt).then(() => undefined, (err) => reasonOf(err).message);
  if (refreshed) {
    await repo.finishRequest(owner, req.id, { ok: false, error: `backup targets cannot be read: ${refreshed}` });
    return true;
  }
  let started: Promise<void> = Promise.resolve();
  const onStarted = (j: { jobId: string }) => {
    started = repo.linkJob(owner, req.id, j.jobId).catch(() => undefined);
  };
  const result = await runWithContext(systemContext(req.kind), () =>
    req.kind === 'backup' ? runBackup(rt, { trigger: 'manual', onStarted }) : runDrill(rt, { trigger: 'manual', onStarted }),
  ).catch((err) => ({ ok: false, error: reasonOf(err).message, busy: reasonOf(err).code === 'conflict' }));
  await started;
  if ('busy' in result && result.busy) {
    await repo.requeue(owner, req.id);
    return false;
  }
  await repo.finishRequest(owner, req.id, { ok: result.ok, error: result.ok ? undefined : result.error });
  if (result.ok) rootLogger.info({ job: req.kind, request: req.id, userId: req.requested_by }, `requested ${req.kind} finished`);
  else rootLogger.error({ job: req.kind, request: req.id, err: result.error }, `requested ${req.kind} failed`);
  return true;
}

export interface RequestWorker {
  /** Resolves when the queue is empty and nothing runs (tests, shutdown). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** The worker's side: LISTEN plus polling; one request at a time. */
export async function startRequestWorker(services: Services, ownerUrl: string, pollSeconds: number): Promise<RequestWorker> {
  const owner = createDb(ownerUrl, 2);
  const log = rootLogger.child({ job: 'backup-requests' });
  const cut = await repo.failRunningRequests(owner, 'interrupted: the worker ended during the run');
  if (cut) log.warn({ requests: cut }, 'marked requests that a restart interrupted as failed');
  let busy: Promise<void> = Promise.resolve();
  let draining = false;
  let stopped = false;
  const drain = () => {
    if (draining || stopped) return busy;
    draining = true;
    busy = (async () => {
      try {
        for (let req = await repo.claimNext(owner); req && !stopped; req = await repo.claimNext(owner)) {
          if (!(await runRequest(services, owner, req))) break;
        }
      } catch (err) {
        log.error({ err: reasonOf(err).message }, 'backup request queue failed');
      } finally {
        draining = false;
      }
    })();
    return busy;
  };
  const listener = await repo.listenForRequests(ownerUrl, () => void drain());
  const timer = setInterval(() => void drain(), pollSeconds * 1000);
  timer.unref();
  void drain();
  return {
    idle: () => busy,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await listener.close();
      await busy;
      await owner.destroy();
    },
  };
}
