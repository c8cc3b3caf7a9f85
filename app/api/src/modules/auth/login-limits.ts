// Login throttling: failures are counted per client IP and per account name (known or not, so a
// lock looks the same for both); the account's own lock (users.locked_until) mirrors its bucket.
import type { Config } from '../../core/config.ts';
import type { Db } from '../../db/connection.ts';
import { assertNotLocked, clearFailures, recordFailure, type LimitPolicy } from '../../core/rate-limit.ts';

export const ipBucket = (ip: string | undefined) => `login:ip:${ip ?? 'unknown'}`;
export const nameBucket = (username: string) => `login:user:${username.trim().toLowerCase()}`;

function policies(config: Config): { name: LimitPolicy; ip: LimitPolicy } {
  const { maxFailures, ipMaxFailures, windowSeconds, lockSeconds } = config.login;
  return {
    name: { maxFailures, windowSeconds, lockSeconds },
    ip: { maxFailures: ipMaxFailures, windowSeconds, lockSeconds },
  };
}

/** 429 while the client IP or the account name is locked. */
export async function assertLoginAllowed(db: Db, ip: string | undefined, username: string): Promise<void> {
  await assertNotLocked(db, ipBucket(ip));
  await assertNotLocked(db, nameBucket(username));
}

/** Counts one failure for IP and name; returns the name bucket's state for the account lock. */
export async function countLoginFailure(db: Db, config: Config, ip: string | undefined, username: string) {
  const p = policies(config);
  await recordFailure(db, ipBucket(ip), p.ip);
  await recordFailure(db, nameBucket(username), p.name);
  const row = await db('rate_limits').where({ bucket: nameBucket(username) }).first('failures', 'locked_until');
  return { failures: Number(row?.failures ?? 1), lockedUntil: (row?.locked_until as Date | null) ?? null };
}

export async function clearLoginFailures(db: Db, username: string): Promise<void> {
  await clearFailures(db, nameBucket(username));
}
