// Login throttling (docs/security-model.md, "Local sign-in throttling"). Three buckets, all keyed
// by the account key from auth_resolve_login (known or unknown names alike, so throttling reveals
// nothing):
// - source + account: after maxFailures that source (client address) is locked out of that
//   account for lockSeconds; other sources, the break-glass admin's among them, are not;
// - source: after ipMaxFailures across all names the source is locked out entirely;
// - account, from all sources: after accountMaxFailures the account is never locked, but its
//   attempts are spaced accountIntervalSeconds apart, which bounds guessing from many sources.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../core/config.ts';
import type { Db } from '../../db/connection.ts';
import { assertNotLocked, clearFailures, countFailure, recordFailure, takeSlot } from '../../core/rate-limit.ts';

export const ipBucket = (ip: string | undefined) => `login:ip:${ip ?? 'unknown'}`;
export const sourceBucket = (ip: string | undefined, accountKey: string) => `login:src:${ip ?? 'unknown'}:${accountKey}`;
export const accountBucket = (accountKey: string) => `login:user:${accountKey}`;

/** 429 while the source is locked (for all names or for this account); waits for the account's slot. */
export async function assertLoginAllowed(db: Db, config: Config, ip: string | undefined, accountKey: string): Promise<void> {
  const { accountMaxFailures, accountIntervalSeconds, windowSeconds } = config.login;
  await assertNotLocked(db, ipBucket(ip));
  await assertNotLocked(db, sourceBucket(ip, accountKey));
  const wait = await takeSlot(db, accountBucket(accountKey), {
    minFailures: accountMaxFailures, windowSeconds, intervalSeconds: accountIntervalSeconds, maxWaitSeconds: 3 * accountIntervalSeconds,
  });
  if (wait > 0) await sleep(Math.ceil(wait * 1000));
}

/** Counts one failure in all three buckets; returns the account's failures in the window. */
export async function countLoginFailure(db: Db, config: Config, ip: string | undefined, accountKey: string): Promise<number> {
  const { maxFailures, ipMaxFailures, windowSeconds, lockSeconds } = config.login;
  await recordFailure(db, ipBucket(ip), { maxFailures: ipMaxFailures, windowSeconds, lockSeconds });
  await recordFailure(db, sourceBucket(ip, accountKey), { maxFailures, windowSeconds, lockSeconds });
  return countFailure(db, accountBucket(accountKey), windowSeconds);
}

/**
 * A successful sign-in clears this source's failures on the account. The account-wide count runs
 * out with its window: a sign-in by the real user does not hand an attacker fresh fast attempts.
 */
export async function clearLoginFailures(db: Db, ip: string | undefined, accountKey: string): Promise<void> {
  await clearFailures(db, sourceBucket(ip, accountKey));
}
