// Failure-counting rate limiter in PostgreSQL (survives restarts, shared by app and worker).
import type { Db } from '../db/connection.ts';
import { tooManyRequests } from './errors.ts';

export interface LimitPolicy {
  maxFailures: number;
  windowSeconds: number;
  lockSeconds: number;
}

/** Throws 429 while the bucket is locked. */
export async function assertNotLocked(db: Db, bucket: string): Promise<void> {
  const row = await db('rate_limits').where({ bucket }).first('locked_until');
  const until = row?.locked_until ? new Date(row.locked_until).getTime() : 0;
  if (until > Date.now()) throw tooManyRequests(Math.ceil((until - Date.now()) / 1000));
}

/** Counts a failure; locks the bucket once maxFailures happen inside the window. */
export async function recordFailure(db: Db, bucket: string, p: LimitPolicy): Promise<void> {
  await db.raw(
    `insert into rate_limits (bucket, failures, window_started_at) values (?, 1, now())
     on conflict (bucket) do update set
       failures = case when rate_limits.window_started_at < now() - make_interval(secs => ?) then 1 else rate_limits.failures + 1 end,
       window_started_at = case when rate_limits.window_started_at < now() - make_interval(secs => ?) then now() else rate_limits.window_started_at end,
       locked_until = case when (case when rate_limits.window_started_at < now() - make_interval(secs => ?) then 1 else rate_limits.failures + 1 end) >= ?
                      then now() + make_interval(secs => ?) else rate_limits.locked_until end`,
    [bucket, p.windowSeconds, p.windowSeconds, p.windowSeconds, p.maxFailures, p.lockSeconds],
  );
}

export async function clearFailures(db: Db, bucket: string): Promise<void> {
  await db('rate_limits').where({ bucket }).delete();
}
