import { defineRoute } from '../../http/route.ts';
import { created, ok } from '../../http/response.ts';
import { idParams } from '../patients/patient.schema.ts';
import { draftParams, draftsView, oneDraftView, reviewBody, settingsBody, settingsView, statusView, triageParams, triageView } from './ai.schema.ts';
import { getSettings, listDrafts, prepare, review, saveSettings, status, triage } from './ai.service.ts';

const tags = ['ai'];

export const aiRoutes = [
  defineRoute({
    method: 'get', path: '/ai/settings', access: 'ai.settings', tags,
    summary: 'The AI preparation settings of the organization (off by default), whether the key file is readable, tokens used today',
    response: ok(settingsView),
    handler: ({ services }) => getSettings(services),
  }),
  defineRoute({
    method: 'put', path: '/ai/settings', access: 'ai.settings', tags, body: settingsBody,
    summary: 'Switch the AI preparation on or off and set model, base URL, key file, timeouts and daily token budget (audited)',
    response: ok(settingsView),
    handler: ({ services, body }) => saveSettings(services, body),
  }),
  defineRoute({
    method: 'get', path: '/ai/status', access: 'ai.triage', tags,
    summary: 'Whether the AI can be used now: switched on, circuit breaker state, budget left today',
    response: ok(statusView),
    handler: ({ services }) => status(services),
  }),
  defineRoute({
    method: 'post', path: '/patients/:id/ai/prepare', access: 'ai.prepare', tags, params: idParams,
    summary: 'Prepare the patient file for the doctor: pseudonymised extract to Anthropic, structured draft back (nothing enters the record until accepted)',
    response: created(oneDraftView),
    handler: async ({ ctx, services, params }) => {
      ctx.status = 201;
      ctx.body = await prepare(services, params.id);
    },
  }),
  defineRoute({
    method: 'get', path: '/patients/:id/ai/drafts', access: 'ai.prepare', tags, params: idParams,
    summary: 'The patient\'s AI drafts (newest first) with their items, decisions and the sources used (audited read)',
    response: ok(draftsView),
    handler: ({ services, params }) => listDrafts(services, params.id),
  }),
  defineRoute({
    method: 'post', path: '/ai/drafts/:draftId/review', access: 'ai.prepare', tags, params: draftParams, body: reviewBody,
    summary: 'Accept (optionally edited) or reject items of a draft; accepted items become record notes marked AI-assisted with model and reviewer',
    response: ok(oneDraftView),
    handler: ({ services, params, body }) => review(services, params.draftId, body),
  }),
  defineRoute({
    method: 'post', path: '/inbox/patients/:id/messages/:messageId/triage', access: 'ai.triage', tags, params: triageParams,
    summary: 'Triage an inbound message: language, urgency, topic and a suggested reply (never sent by itself)',
    response: ok(triageView),
    handler: ({ services, params }) => triage(services, params.id, params.messageId),
  }),
];
