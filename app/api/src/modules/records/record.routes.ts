import { z } from 'zod';
import { defineRoute } from '../../http/route.ts';
import { idParams } from '../patients/patient.schema.ts';
import { anamnesisBody, diagnosisBody, entryParams, noteBody, planBody, treatmentBody, type Kind } from './record.schema.ts';
import { appendEntry, entryHistory, getRecord } from './record.service.ts';
import {
  createDraft, deleteDraft, getDraft, getQuestionnaire, getSettings, listDrafts, listQuestionnaires, listTemplates, listVersions, publishDraft, publishQuestionnaire, saveDraft, setDefault,
} from './questionnaire.service.ts';
import { publishBody } from './questionnaire.schema.ts';
import { created, noContent, ok } from '../../http/response.ts';
import {
  appendedView, draftParams, draftsView, entryHistoryView, healthRecordView, newDraftBody, oneDraftView, oneQuestionnaireView, publishDraftBody,
  questionnaireSettingsView, questionnairesView, questionnaireVersionsView, saveDraftBody, settingsBody, templatesView,
} from './record.schema.ts';

const appendRoute = (kind: Kind, segment: string, body: z.ZodType, summary: string) =>
  defineRoute({
    // a diagnosis needs diagnoses.write (held only by roles that also hold health.write)
    method: 'post', path: `/patients/:id/${segment}`, access: kind === 'diagnosis' ? 'diagnoses.write' : 'health.write', tags: ['health-record'], params: idParams, body,
    summary,
    response: created(appendedView[kind]),
    handler: async ({ ctx, services, params, body: b }) => {
      const entry = await appendEntry(services, params.id, kind, b as Record<string, unknown>);
      ctx.status = 201;
      ctx.body = { entry };
    },
  });

export const recordRoutes = [
  defineRoute({
    method: 'get', path: '/patients/:id/record', access: 'health.read', tags: ['health-record'], params: idParams,
    summary: 'Open a record: master data, latest anamnesis with pre-qualification, diagnoses (only with diagnoses.read; diagnosesVisible says so), treatments, plans (one audited read)',
    response: ok(healthRecordView),
    handler: ({ services, params }) => getRecord(services, params.id),
  }),
  appendRoute('anamnesis', 'anamnesis', anamnesisBody, 'Answer the anamnesis questionnaire; returns the entry with its pre-qualification status'),
  appendRoute('diagnosis', 'diagnoses', diagnosisBody, 'Add (or correct, with supersedesId) a diagnosis with an ICD-10-GM code'),
  appendRoute('treatment', 'treatments', treatmentBody, 'Append (or correct) a treatment history entry'),
  appendRoute('plan', 'plans', planBody, 'Add (or revise) a treatment plan'),
  appendRoute('note', 'notes', noteBody, 'Add (or correct) a short note or finding line (the Karteikarte\'s quick entry)'),
  defineRoute({
    method: 'get', path: '/patients/:id/record/entries/:entryId/history', access: 'health.read', tags: ['health-record'], params: entryParams,
    summary: 'Every version of a record entry (corrections keep the original)',
    response: ok(entryHistoryView),
    handler: ({ services, params }) => entryHistory(services, params.id, params.entryId),
  }),
  defineRoute({
    method: 'get', path: '/questionnaires', access: 'health.read', tags: ['health-record'],
    summary: 'The newest version of each questionnaire',
    response: ok(questionnairesView),
    handler: ({ services }) => listQuestionnaires(services),
  }),
  defineRoute({
    method: 'get', path: '/questionnaires/:key', access: 'health.read', tags: ['health-record'],
    params: z.strictObject({ key: z.string().regex(/^[a-z][a-z0-9_]{1,62}$/) }),
    query: z.strictObject({ version: z.coerce.number().int().positive().optional() }),
    summary: 'One questionnaire definition (newest or a given version)',
    response: ok(oneQuestionnaireView),
    handler: async ({ services, params, query }) => ({ questionnaire: await getQuestionnaire(services, params.key, query.version) }),
  }),
  defineRoute({
    method: 'post', path: '/questionnaires', access: 'questionnaires.manage', tags: ['health-record'], body: publishBody,
    summary: 'Publish a new version of a questionnaire (fields and pre-qualification rules)',
    response: created(oneQuestionnaireView),
    handler: async ({ ctx, services, body }) => {
      ctx.status = 201;
      ctx.body = { questionnaire: await publishQuestionnaire(services, body) };
    },
  }),
  defineRoute({
    method: 'get', path: '/questionnaires/:key/versions', access: 'health.read', tags: ['questionnaires'], params: draftParams,
    summary: 'Every published version of a questionnaire, newest first (each stays readable)',
    response: ok(questionnaireVersionsView),
    handler: ({ services, params }) => listVersions(services, params.key),
  }),
  defineRoute({
    method: 'get', path: '/questionnaire-templates', access: 'questionnaires.manage', tags: ['questionnaires'],
    summary: 'The shipped templates (general anamnesis, Barthel index, Timed Up and Go, hair clinic)',
    response: ok(templatesView),
    handler: async () => listTemplates(),
  }),
  defineRoute({
    method: 'get', path: '/questionnaire-drafts', access: 'questionnaires.manage', tags: ['questionnaires'],
    summary: 'The drafts being edited',
    response: ok(draftsView),
    handler: ({ services }) => listDrafts(services),
  }),
  defineRoute({
    method: 'post', path: '/questionnaire-drafts', access: 'questionnaires.manage', tags: ['questionnaires'], body: newDraftBody,
    summary: 'Start a draft: the next version of a questionnaire, a copy of a template, or an empty questionnaire',
    response: created(oneDraftView),
    handler: async ({ ctx, services, body }) => {
      ctx.status = 201;
      ctx.body = await createDraft(services, body);
    },
  }),
  defineRoute({
    method: 'get', path: '/questionnaire-drafts/:key', access: 'questionnaires.manage', tags: ['questionnaires'], params: draftParams,
    summary: 'One draft',
    response: ok(oneDraftView),
    handler: ({ services, params }) => getDraft(services, params.key),
  }),
  defineRoute({
    method: 'put', path: '/questionnaire-drafts/:key', access: 'questionnaires.manage', tags: ['questionnaires'], params: draftParams, body: saveDraftBody,
    summary: 'Save a draft (checked like a published definition, but may have no questions yet); revision guards against lost updates',
    response: ok(oneDraftView),
    handler: ({ services, params, body }) => saveDraft(services, params.key, body),
  }),
  defineRoute({
    method: 'delete', path: '/questionnaire-drafts/:key', access: 'questionnaires.manage', tags: ['questionnaires'], params: draftParams,
    summary: 'Discard a draft',
    response: noContent(),
    handler: async ({ ctx, services, params }) => {
      await deleteDraft(services, params.key);
      ctx.status = 204;
    },
  }),
  defineRoute({
    method: 'post', path: '/questionnaire-drafts/:key/publish', access: 'questionnaires.manage', tags: ['questionnaires'], params: draftParams, body: publishDraftBody,
    summary: 'Publish a draft as the next immutable version; answers given to older versions keep theirs',
    response: created(oneQuestionnaireView),
    handler: async ({ ctx, services, params, body }) => {
      ctx.status = 201;
      ctx.body = await publishDraft(services, params.key, body.revision);
    },
  }),
  defineRoute({
    method: 'get', path: '/questionnaire-settings', access: 'health.read', tags: ['questionnaires'],
    summary: 'The organization’s default questionnaire for the anamnesis (null while none was chosen)',
    response: ok(questionnaireSettingsView),
    handler: ({ services }) => getSettings(services),
  }),
  defineRoute({
    method: 'put', path: '/questionnaire-settings', access: 'questionnaires.manage', tags: ['questionnaires'], body: settingsBody,
    summary: 'Choose the default questionnaire (audited)',
    response: ok(questionnaireSettingsView),
    handler: ({ services, body }) => setDefault(services, body.defaultKey),
  }),
];
