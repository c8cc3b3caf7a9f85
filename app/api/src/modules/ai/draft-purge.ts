// Deletes AI drafts whose keeping time has passed (docs/ai.md, "Retention of drafts"). Preparing a
// file and listing drafts delete what is due in their organization; the worker does it every hour
// (PRAXISKERN_AI_DRAFT_PURGE_SCHEDULE, default minute 41) for every organization — also one that
// switched the AI off and no longer prepares or lists anything. Each deletion is audited
// (`ai.draft.purge`, the number of drafts and their patients' ids; scheduled runs as the system actor).
import cron from 'node-cron';
import { log } from '../../core/context.ts';
import { forEachOrganization, SYSTEM_USER_ID } from '../../core/system-jobs.ts';
import { withScope, type Tx } from '../../db/connection.ts';
import { audit } from '../audit/audit.service.ts';
import type { Services } from '../../http/services.ts';

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

/** One pass over all organizations (core/system-jobs.ts); a failure in one does not stop the others. */
export async function purgeDueDrafts(services: Services): Promise<DraftPurgeRun[]> {
  // every organization, also an inactive one: what is due is deleted wherever it lies
  return forEachOrganization(services, 'ai-draft-purge', { activeOnly: false }, async (organizationId) => {
    const purged = await withScope(services.db, { organizationId, userId: SYSTEM_USER_ID }, (trx) => deleteDueDrafts(trx, organizationId));
    if (purged) log().info({ organizationId, purged }, 'AI drafts past their keeping time deleted');
    return { organizationId, purged };
  });
}

export function startDraftPurgeScheduler(services: Services, env: NodeJS.ProcessEnv = process.env): { stop(): void } {
  const expression = env.PRAXISKERN_AI_DRAFT_PURGE_SCHEDULE || '41 * * * *';
  if (!cron.validate(expression)) throw new Error(`PRAXISKERN_AI_DRAFT_PURGE_SCHEDULE is not a cron expression: "${expression}"`);
  const task = cron.schedule(expression, () => void purgeDueDrafts(services), { noOverlap: true });
  return { stop: () => void task.stop() };
}
