// Runs the retention scanner on node-cron (PRAXISKERN_RETENTION_SCHEDULE, default daily 03:15):
// for every organization a dry-run listing first (audited), then the anonymization. The jobs act
// as the system actor (user id 00000000-0000-0000-0000-000000000000 in the audit log).
import cron from 'node-cron';
import type { Services } from '../../http/services.ts';
import { forEachOrganization } from '../../core/system-jobs.ts';
import { runRetention } from './retention.service.ts';

export { SYSTEM_USER_ID } from '../../core/system-jobs.ts';

export interface RetentionRun {
  organizationId: string;
  listed: number;
  anonymized: number;
}

/** One scheduled pass over all organizations; a failure in one does not stop the others. */
export async function runScheduledRetention(services: Services, today?: string): Promise<RetentionRun[]> {
  return forEachOrganization(services, 'retention', { activeOnly: true }, async (organizationId) => {
    const dry = await runRetention(services, { dryRun: true, today });
    const run = dry.candidates.length ? await runRetention(services, { dryRun: false, today }) : dry;
    return { organizationId, listed: dry.candidates.length, anonymized: run.anonymized.length };
  });
}

export function startRetentionScheduler(services: Services, env: NodeJS.ProcessEnv = process.env): { stop(): void } {
  const expression = env.PRAXISKERN_RETENTION_SCHEDULE || '15 3 * * *';
  if (!cron.validate(expression)) throw new Error(`PRAXISKERN_RETENTION_SCHEDULE is not a cron expression: "${expression}"`);
  const task = cron.schedule(expression, () => void runScheduledRetention(services));
  return { stop: () => void task.stop() };
}
