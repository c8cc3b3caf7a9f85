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

/** Counts a failure inside the window without ever locking the bucket; returns the count. */
export async function countFailure(db: Db, bucket: string, windowSeconds: number): Promise<number> {
  const { rows } = await db.raw(
    `insert into rate_limits (bucket, failures, window_started_at) values (?, 1, now())
     on conflict (bucket) do update set
       failures = case when rate_limits.window_started_at < now() - make_interval(secs => ?) then 1 else rate_limits.failures + 1 end,
       window_started_at = case when rate_limits.window_started_at < now() - make_interval(secs => ?) then now() else rate_limits.window_started_at end
     returning failures`,
    [bucket, windowSeconds, windowSeconds],
  );
  return Number(rows[0].failures);
}

/**
 * Spaces attempts on a bucket that has at least minFailures failures in the window: each attempt
 * takes the next free slot (intervalSeconds apart) and returns how long to wait for it. When the
 * next slot is more than maxWaitSeconds away the attempt is refused (429) without taking one.
 */
export async function takeSlot(db: Db, bucket: string, p: { minFailures: number; windowSeconds: number; intervalSeconds: number; maxWaitSeconds: number }): Promise<number> {
  return db.transaction(async (trx) => {
    const { rows } = await trx.raw(
      `select extract(epoch from greatest(coalesce(locked_until, now()), now()) - now()) as wait from rate_limits
        where bucket = ? and failures >= ? and window_started_at >= now() - make_interval(secs => ?) for update`,
      [bucket, p.minFailures, p.windowSeconds],
    );
    if (!rows.length) return 0;
    const wait = Number(rows[0].wait);
    if (wait > p.maxWaitSeconds) throw tooManyRequests(Math.ceil(wait));
    await trx.raw('update rate_limits set locked_until = now() + make_interval(secs => ?) where bucket = ?', [wait + p.intervalSeconds, bucket]);
    return wait;
  });
}
