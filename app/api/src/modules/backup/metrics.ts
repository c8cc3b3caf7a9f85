// Prometheus metrics of backups and restore drills. The "last …" gauges are read from the durable
// job table at scrape time, so they are right after a restart and for runs started by the CLI;
// the failure counter counts in the process that ran the job.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Db } from '../../db/connection.ts';
import { rootLogger } from '../../core/logger.ts';
import { recentJobs } from './backup.repository.ts';

export interface TargetOutcome {
  ok: boolean;
  bytes: number;
  durationSeconds: number;
  error?: string;
  code?: string;
}

export interface BackupMetrics {
  failures: Counter<'kind' | 'target' | 'reason'>;
  running: Gauge<'kind'>;
}

const registered = new WeakMap<Registry, BackupMetrics>();

export function backupMetrics(registry: Registry, db: Db): BackupMetrics {
  const known = registered.get(registry);
  if (known) return known;
  const lastSuccess = new Gauge({
    name: 'praxiskern_backup_last_success_timestamp_seconds', help: 'Completion time of the last successful backup, per target',
    labelNames: ['target'], registers: [registry],
  });
  const lastDuration = new Gauge({
    name: 'praxiskern_backup_last_duration_seconds', help: 'Duration of the last successful backup, per target',
    labelNames: ['target'], registers: [registry],
  });
  const lastBytes = new Gauge({
    name: 'praxiskern_backup_last_bytes', help: 'Bytes written by the last successful backup, per target',
    labelNames: ['target'], registers: [registry],
  });
  const lastOk = new Gauge({
    name: 'praxiskern_backup_last_run_success', help: '1 if the most recent backup run succeeded on the target, 0 if it failed',
    labelNames: ['target'], registers: [registry],
  });
  const drillTime = new Gauge({ name: 'praxiskern_backup_drill_last_timestamp_seconds', help: 'Completion time of the last restore drill', registers: [registry] });
  const drillOk = new Gauge({ name: 'praxiskern_backup_drill_last_success', help: '1 if the last restore drill passed, 0 if it failed', registers: [registry] });
  const metrics: BackupMetrics = {
    failures: new Counter({
      name: 'praxiskern_backup_failures_total', help: 'Failed backups, drills and verifications, by kind, target and reason code',
      labelNames: ['kind', 'target', 'reason'], registers: [registry],
    }),
    running: new Gauge({ name: 'praxiskern_backup_running', help: '1 while a backup job of this kind runs in this process', labelNames: ['kind'], registers: [registry] }),
  };
  // One query feeds all gauges: a scrape collects them in parallel and they share the query in flight.
  let pending: Promise<void> | undefined;
  const refresh = () =>
    (pending ??= (async () => {
      try {
        const jobs = await recentJobs(db, undefined, 200);
        const seenOk = new Set<string>();
        const seenLast = new Set<string>();
        for (const job of jobs) {
          if (job.status === 'running') continue;
          if (job.kind === 'backup') {
            const targets = (job.details?.targets ?? {}) as Record<string, TargetOutcome>;
            for (const [name, t] of Object.entries(targets)) {
              if (!seenLast.has(name)) {
                seenLast.add(name);
                lastOk.set({ target: name }, t.ok ? 1 : 0);
              }
              if (t.ok && !seenOk.has(name)) {
                seenOk.add(name);
                lastSuccess.set({ target: name }, (job.finished_at ?? job.heartbeat_at).getTime() / 1000);
                lastDuration.set({ target: name }, t.durationSeconds);
                lastBytes.set({ target: name }, t.bytes);
              }
            }
          }
        }
        const drill = jobs.find((j) => j.kind === 'drill' && j.status !== 'running');
        if (drill) {
          drillTime.set((drill.finished_at ?? drill.heartbeat_at).getTime() / 1000);
          drillOk.set(drill.status === 'succeeded' ? 1 : 0);
        }
      } catch (err) {
        rootLogger.warn({ err: (err as Error).message }, 'backup metrics: cannot read the job table');
      } finally {
        pending = undefined;
      }
    })());
  for (const g of [lastSuccess, lastDuration, lastBytes, lastOk, drillTime, drillOk]) {
    (g as unknown as { collect: () => Promise<void> }).collect = refresh;
  }
  registered.set(registry, metrics);
  return metrics;
}
