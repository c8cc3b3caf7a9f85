// Questionnaire definitions (docs/questionnaires.md). Published versions are immutable rows; a
// practice edits a draft (one per key), previews it and publishes it as the next version. Answers
// keep the version they were given to, with the scores and pre-qualification computed then.
import { withScope, type Tx } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import { conflict, notFound, validation, validationMany } from '../../core/errors.ts';
import { zodIssues } from '../../http/router.ts';
import type { Services } from '../../http/services.ts';
import { audit } from '../audit/audit.service.ts';
import { scope } from '../patients/patient.service.ts';
import * as repo from './record.repository.ts';
import { definitionSchema, type Definition } from './questionnaire.schema.ts';
import { LEGACY_ANAMNESIS, TEMPLATES, templateById } from './questionnaire.templates.ts';

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

interface DraftRow { key: string; title: string; definition: Definition; revision: number; updated_at: Date; updated_by: string | null }
const draftView = async (trx: Tx, r: DraftRow) => ({
  key: r.key, title: r.title, definition: r.definition, revision: r.revision, updatedAt: r.updated_at,
  publishedVersion: (await repo.latestQuestionnaire(trx, r.key))?.version ?? null,
});

/** The organization's chosen default questionnaire key, or null while none was chosen. */
async function chosenDefault(trx: Tx): Promise<string | null> {
  const row = await trx('questionnaire_settings').first('default_key');
  return row?.default_key ?? null;
}

/**
 * Until a practice chooses its default, the hair clinic's anamnesis (key "anamnesis", first
 * format) is created on first use, as before this editor existed; after a choice nothing is created.
 */
export async function ensureDefaults(trx: Tx, organizationId: string, always = false): Promise<void> {
  if (!always && (await chosenDefault(trx))) return;
  if (await repo.latestQuestionnaire(trx, LEGACY_ANAMNESIS.key)) return;
  await repo.insertQuestionnaire(trx, { organization_id: organizationId, version: 1, created_by: null, ...LEGACY_ANAMNESIS });
}

/** The key new anamnesis answers use when the caller names none. */
export async function defaultKey(trx: Tx): Promise<string> {
  return (await chosenDefault(trx)) ?? LEGACY_ANAMNESIS.key;
}

/** The questionnaire an answer set is validated against: a given version or the newest. */
export async function resolveQuestionnaire(trx: Tx, organizationId: string, key: string | undefined, version?: number): Promise<QuestionnaireView> {
  await ensureDefaults(trx, organizationId, key === LEGACY_ANAMNESIS.key);
  const k = key ?? (await defaultKey(trx));
  const row = await repo.latestQuestionnaire(trx, k, version);
  if (!row) throw notFound(`Questionnaire ${k}${version ? ` version ${version}` : ''}`);
  return view(row);
}

export async function listQuestionnaires(services: Services) {
  const actor = authorize('health.read');
  return withScope(services.db, scope(actor), async (trx) => {
    await ensureDefaults(trx, actor.organizationId);
    return { questionnaires: (await repo.listLatestQuestionnaires(trx)).map(view), defaultKey: await defaultKey(trx) };
  });
}

export async function getQuestionnaire(services: Services, key: string, version?: number) {
  const actor = authorize('health.read');
  return withScope(services.db, scope(actor), (trx) => resolveQuestionnaire(trx, actor.organizationId, key, version));
}

export async function listVersions(services: Services, key: string) {
  const actor = authorize('health.read');
  return withScope(services.db, scope(actor), async (trx) => {
    const rows: { version: number; title: string; created_at: Date; created_by: string | null }[] = await trx('questionnaires')
      .where({ key }).orderBy('version', 'desc').select('version', 'title', 'created_at', 'created_by');
    if (!rows.length) throw notFound(`Questionnaire ${key}`);
    return { versions: rows.map((r) => ({ version: r.version, title: r.title, createdAt: r.created_at, createdBy: r.created_by })) };
  });
}

async function insertVersion(trx: Tx, actor: { organizationId: string; userId: string }, input: { key: string; title: string; definition: Definition }) {
  await ensureDefaults(trx, actor.organizationId);
  const latest = await repo.latestQuestionnaire(trx, input.key);
  const version = (latest?.version ?? 0) + 1;
  const row = await repo.insertQuestionnaire(trx, { organization_id: actor.organizationId, version, created_by: actor.userId, ...input });
  if (!row) throw conflict(`Version ${version} of ${input.key} was published meanwhile; reload and try again`);
  await audit(trx, { action: 'questionnaire.publish', objectType: 'questionnaire', objectId: row.id, details: { key: input.key, version } });
  return view(row);
}

export async function publishQuestionnaire(services: Services, input: { key: string; title: string; definition: Definition }) {
  const actor = authorize('questionnaires.manage');
  return withScope(services.db, scope(actor), (trx) => insertVersion(trx, actor, input));
}

export function listTemplates() {
  authorize('questionnaires.manage');
  return { templates: TEMPLATES.map((x) => ({ id: x.id, title: x.title, description: x.description, definition: x.definition })) };
}

/** A hidden key from a title: ASCII letters, digits, underscores; "Barthel-Index" → barthel_index. */
export function keyFromTitle(title: string): string {
  const base = title.toLowerCase()
    .replace(/ä/g, 'ae').replace(/ö/g, 'oe').replace(/ü/g, 'ue').replace(/ß/g, 'ss')
    .normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 50);
  return /^[a-z][a-z0-9_]+$/.test(base) ? base : `q_${base}`.replace(/_+$/, '').padEnd(3, 'x');
}

export async function listDrafts(services: Services) {
  const actor = authorize('questionnaires.manage');
  return withScope(services.db, scope(actor), async (trx) => {
    const rows: DraftRow[] = await trx('questionnaire_drafts').orderBy('updated_at', 'desc');
    return { drafts: await Promise.all(rows.map((r) => draftView(trx, r))) };
  });
}

export async function getDraft(services: Services, key: string) {
  const actor = authorize('questionnaires.manage');
  return withScope(services.db, scope(actor), async (trx) => {
    const row: DraftRow | undefined = await trx('questionnaire_drafts').where({ key }).first();
    if (!row) throw notFound('Questionnaire draft');
    return { draft: await draftView(trx, row) };
  });
}

/**
 * A new draft: the next version of a published questionnaire (`questionnaireKey`, a copy of its
 * newest version), a copy of a template, or an empty questionnaire; the key of a new one comes
 * from its title and is never shown.
 */
export async function createDraft(services: Services, body: { title?: string; templateId?: string; questionnaireKey?: string }) {
  const actor = authorize('questionnaires.manage');
  return withScope(services.db, scope(actor), async (trx) => {
    let key: string;
    let title: string;
    let definition: Definition;
    if (body.questionnaireKey) {
      const latest = await repo.latestQuestionnaire(trx, body.questionnaireKey);
      if (!latest) throw validation('body.questionnaireKey', 'is not a published questionnaire', 'invalid_option');
      const existing: DraftRow | undefined = await trx('questionnaire_drafts').where({ key: latest.key }).first();
      if (existing) return { draft: await draftView(trx, existing) };
      ({ key, title, definition } = latest);
      title = body.title ?? title;
    } else {
      const template = body.templateId ? templateById(body.templateId) : undefined;
      if (body.templateId && !template) throw validation('body.templateId', 'is not a template', 'invalid_option');
      title = body.title ?? template?.title ?? '';
      if (!title) throw validation('body.title', 'is required for a new questionnaire', 'required');
      definition = template ? structuredClone(template.definition) : { fields: [], rules: [] };
      const base = keyFromTitle(title);
      key = base;
      for (let i = 2; (await repo.latestQuestionnaire(trx, key)) || (await trx('questionnaire_drafts').where({ key }).first()); i++) key = `${base}_${i}`;
    }
    const [row] = await trx('questionnaire_drafts')
      .insert({ organization_id: actor.organizationId, key, title, definition: JSON.stringify(definition), updated_by: actor.userId })
      .returning('*');
    await audit(trx, { action: 'questionnaire.draft.create', objectType: 'questionnaire', objectId: key, details: { key, templateId: body.templateId ?? null } });
    return { draft: await draftView(trx, row) };
  });
}

export async function saveDraft(services: Services, key: string, body: { title: string; definition: Definition; revision: number }) {
  const actor = authorize('questionnaires.manage');
  return withScope(services.db, scope(actor), async (trx) => {
    const [row] = await trx('questionnaire_drafts')
      .where({ key, revision: body.revision })
      .update({ title: body.title, definition: JSON.stringify(body.definition), revision: body.revision + 1, updated_by: actor.userId, updated_at: trx.fn.now() })
      .returning('*');
    if (!row) {
      const current: DraftRow | undefined = await trx('questionnaire_drafts').where({ key }).first();
      if (!current) throw notFound('Questionnaire draft');
      throw conflict('The draft was changed meanwhile; reload it', { revision: current.revision });
    }
    return { draft: await draftView(trx, row) };
  });
}

export async function deleteDraft(services: Services, key: string) {
  const actor = authorize('questionnaires.manage');
  return withScope(services.db, scope(actor), async (trx) => {
    const n = await trx('questionnaire_drafts').where({ key }).delete();
    if (!n) throw notFound('Questionnaire draft');
    await audit(trx, { action: 'questionnaire.draft.delete', objectType: 'questionnaire', objectId: key, details: { key } });
  });
}

/** Publishes the draft as the next version (checked as a full definition) and removes the draft. */
export async function publishDraft(services: Services, key: string, revision: number) {
  const actor = authorize('questionnaires.manage');
  return withScope(services.db, scope(actor), async (trx) => {
    const row: DraftRow | undefined = await trx('questionnaire_drafts').where({ key }).forUpdate().first();
    if (!row) throw notFound('Questionnaire draft');
    if (row.revision !== revision) throw conflict('The draft was changed meanwhile; reload it', { revision: row.revision });
    const parsed = definitionSchema.safeParse(row.definition);
    if (!parsed.success) throw validationMany(zodIssues(parsed.error, 'draft.definition'));
    const published = await insertVersion(trx, actor, { key, title: row.title, definition: parsed.data });
    await trx('questionnaire_drafts').where({ key }).delete();
    return { questionnaire: published };
  });
}

export async function getSettings(services: Services) {
  const actor = authorize('health.read');
  return withScope(services.db, scope(actor), async (trx) => ({ defaultKey: await chosenDefault(trx) }));
}

export async function setDefault(services: Services, key: string) {
  const actor = authorize('questionnaires.manage');
  return withScope(services.db, scope(actor), async (trx) => {
    if (!(await repo.latestQuestionnaire(trx, key))) throw validation('body.defaultKey', 'is not a published questionnaire', 'invalid_option');
    const before = await chosenDefault(trx);
    await trx('questionnaire_settings')
      .insert({ organization_id: actor.organizationId, default_key: key, updated_by: actor.userId })
      .onConflict('organization_id').merge({ default_key: key, updated_by: actor.userId, updated_at: trx.fn.now() });
    await audit(trx, { action: 'questionnaire.default.change', objectType: 'questionnaire', objectId: key, details: { from: before, to: key } });
    return { defaultKey: key };
  });
}
