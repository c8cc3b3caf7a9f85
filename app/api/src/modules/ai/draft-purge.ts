// Deletes AI drafts whose keeping time has passed (docs/ai.md, "Retention of drafts"). Preparing a
// file and listing drafts delete what is due in their organization; the worker does it every hour
// (PRAXISKERN_AI_DRAFT_PURGE_SCHEDULE, default minute 41) for every organization — also one that
// switched the AI off and no longer prepares or lists anything. Each deletion is audited
// (`ai.draft.purge`, the number of drafts and their patients' ids; scheduled runs as the system actor).
import cron from 'node-cron';
import { runWithContext, systemContext, log } from '../../core/context.ts';
import { withScope, type Tx } from '../../db/connection.ts';
import { audit } from '../audit/audit.service.ts';
import type { Services } from '../../http/services.ts';
import { SYSTEM_USER_ID } from '../retention/retention.scheduler.ts';

/** In the organization of `trx`'s scope: deletes the drafts past `purge_after`, audited when there were any. */
export async function deleteDueDrafts(trx: Tx, organizationId: string): Promise<number> {
  const gone: { id: string; patient_id: string }[] = await trx('ai_drafts')
    .where({ organization_id: organizationId }).andWhere('purge_after', '<', trx.fn.now()).delete(['id', 'patient_id']);
  if (gone.length) {
    await audit(trx, {
      action: 'ai.draft.purge', objectType: 'organization', objectId: organizationId,
      details: { drafts: gone.length, patients: [...new Set(gone.map((d) => d.patient_id))] },
    });
  }
  return gone.length;
}

export interface DraftPurgeRun { organizationId: string; purged: number }

/** One pass over all organizations; a failure in one does not stop the others. */
export async function purgeDueDrafts(services: Services): Promise<DraftPurgeRun[]> {
  const orgs: { id: string }[] = await withScope(services.db, { organizationId: null, platform: true }, (trx) =>
    trx('organizations').select('id').orderBy('id'));
  const runs: DraftPurgeRun[] = [];
  for (const { id } of orgs) {
    const actor = { userId: SYSTEM_USER_ID, organizationId: id, roles: ['admin' as const], sessionId: 'ai-draft-purge' };
    await runWithContext(systemContext('ai-draft-purge', actor), async () => {
      try {
        const purged = await withScope(services.db, { organizationId: id, userId: SYSTEM_USER_ID }, (trx) => deleteDueDrafts(trx, id));
        runs.push({ organizationId: id, purged });
        if (purged) log().info({ organizationId: id, purged }, 'AI drafts past their keeping time deleted');
      } catch (err) {
        log().error({ err, organizationId: id }, 'AI draft purge failed');
      }
    });
  }
  return runs;
}

export function startDraftPurgeScheduler(services: Services, env: NodeJS.ProcessEnv = process.env): { stop(): void } {
  const expression = env.PRAXISKERN_AI_DRAFT_PURGE_SCHEDULE || '41 * * * *';
  if (!cron.validate(expression)) throw new Error(`PRAXISKERN_AI_DRAFT_PURGE_SCHEDULE is not a cron expression: "${expression}"`);
  const task = cron.schedule(expression, () => void purgeDueDrafts(services), { noOverlap: true });
  return { stop: () => void task.stop() };
}
