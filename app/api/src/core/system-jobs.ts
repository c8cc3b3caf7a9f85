// The worker's jobs that act in every organization (retention, AI draft purge): each organization
// in its own request context as the system actor (user id 00000000-0000-0000-0000-000000000000 in
// the audit log), so its audit entries and log lines carry the organization; a failure in one
// organization is logged and does not stop the others. Webhooks and the outbox write as the same user.
import { withScope } from '../db/connection.ts';
import type { Services } from '../http/services.ts';
import { log, runWithContext, systemContext, type Actor } from './context.ts';

export const SYSTEM_USER_ID = '00000000-0000-0000-0000-000000000000';

/** Runs `fn` once per organization (only active ones with `activeOnly`), in order of id; returns the results of those that did not fail. */
export async function forEachOrganization<T>(services: Services, job: string, opts: { activeOnly: boolean }, fn: (organizationId: string) => Promise<T>): Promise<T[]> {
  const orgs: { id: string }[] = await withScope(services.db, { organizationId: null, platform: true, readOnly: true }, (trx) => {
    const q = trx('organizations').select('id').orderBy('id');
    return opts.activeOnly ? q.where({ active: true }) : q;
  });
  const results: T[] = [];
  for (const { id } of orgs) {
    const actor: Actor = { userId: SYSTEM_USER_ID, organizationId: id, roles: ['admin'], sessionId: job };
    await runWithContext(systemContext(job, actor), async () => {
      try {
        results.push(await fn(id));
      } catch (err) {
        log().error({ err, organizationId: id }, `${job} failed`);
      }
    });
  }
  return results;
}
