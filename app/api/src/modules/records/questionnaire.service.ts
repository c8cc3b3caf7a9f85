// Questionnaire definitions: the default anamnesis is created on first use; publishing a new
// version never changes answers given against an older one.
import { withScope, type Tx } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import { conflict, notFound } from '../../core/errors.ts';
import type { Services } from '../../http/services.ts';
import { audit } from '../audit/audit.service.ts';
import { scope } from '../patients/patient.service.ts';
import * as repo from './record.repository.ts';
import { DEFAULT_ANAMNESIS, type Definition } from './questionnaire.schema.ts';

export interface QuestionnaireView {
  id: string;
  key: string;
  version: number;
  title: string;
  definition: Definition;
  createdAt: Date;
}

const view = (r: { id: string; key: string; version: number; title: string; definition: Definition; created_at: Date }): QuestionnaireView => ({
  id: r.id, key: r.key, version: r.version, title: r.title, definition: r.definition, createdAt: r.created_at,
});

export async function ensureDefaults(trx: Tx, organizationId: string): Promise<void> {
  if (await repo.latestQuestionnaire(trx, DEFAULT_ANAMNESIS.key)) return;
  await repo.insertQuestionnaire(trx, { organization_id: organizationId, version: 1, created_by: null, ...DEFAULT_ANAMNESIS });
}

/** The questionnaire an answer set is validated against: a given version or the newest. */
export async function resolveQuestionnaire(trx: Tx, organizationId: string, key: string, version?: number): Promise<QuestionnaireView> {
  await ensureDefaults(trx, organizationId);
  const row = await repo.latestQuestionnaire(trx, key, version);
  if (!row) throw notFound(`Questionnaire ${key}${version ? ` version ${version}` : ''}`);
  return view(row);
}

export async function listQuestionnaires(services: Services) {
  const actor = authorize('health.read');
  return withScope(services.db, scope(actor), async (trx) => {
    await ensureDefaults(trx, actor.organizationId);
    return { questionnaires: (await repo.listLatestQuestionnaires(trx)).map(view) };
  });
}

export async function getQuestionnaire(services: Services, key: string, version?: number) {
  const actor = authorize('health.read');
  return withScope(services.db, scope(actor), (trx) => resolveQuestionnaire(trx, actor.organizationId, key, version));
}

export async function publishQuestionnaire(services: Services, input: { key: string; title: string; definition: Definition }) {
  const actor = authorize('questionnaires.manage');
  return withScope(services.db, scope(actor), async (trx) => {
    await ensureDefaults(trx, actor.organizationId);
    const latest = await repo.latestQuestionnaire(trx, input.key);
    const version = (latest?.version ?? 0) + 1;
    const row = await repo.insertQuestionnaire(trx, { organization_id: actor.organizationId, version, created_by: actor.userId, ...input });
    if (!row) throw conflict(`Version ${version} of ${input.key} was published meanwhile; reload and try again`);
    await audit(trx, { action: 'questionnaire.publish', objectType: 'questionnaire', objectId: row.id, details: { key: input.key, version } });
    return view(row);
  });
}
