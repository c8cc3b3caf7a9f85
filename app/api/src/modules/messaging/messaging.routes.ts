import { defineRoute } from '../../http/route.ts';
import { ok, created } from '../../http/response.ts';
import { idParams } from '../patients/patient.schema.ts';
import {
  channelSettingsBody, channelSettingsView, oneTemplateView, outboxPageView, outboxQuery, patientMessagesView, sendBody, sentMessageView,
  templateBody, templatesView,
} from './messaging.schema.ts';
import { getChannels, listTemplates, outboxList, patientMessages, saveChannels, saveTemplate, sendToPatient } from './messaging.service.ts';

export const messagingRoutes = [
  defineRoute({
    method: 'get', path: '/messaging/channels', access: 'messaging.settings', tags: ['messaging'],
    summary: 'Channel settings of the organization and what each channel sends where',
    response: ok(channelSettingsView),
    handler: ({ services }) => getChannels(services),
  }),
  defineRoute({
    method: 'put', path: '/messaging/channels', access: 'messaging.settings', tags: ['messaging'], body: channelSettingsBody,
    summary: 'Switch e-mail and WhatsApp on or off (off by default); one WhatsApp number per organization',
    response: ok(channelSettingsView),
    handler: ({ services, body }) => saveChannels(services, body),
  }),
  defineRoute({
    method: 'get', path: '/messaging/templates', access: 'messaging.settings', tags: ['messaging'],
    summary: 'Message templates per purpose and language (built-in or the organization\'s own)',
    response: ok(templatesView),
    handler: ({ services }) => listTemplates(services),
  }),
  defineRoute({
    method: 'put', path: '/messaging/templates', access: 'messaging.settings', tags: ['messaging'], body: templateBody,
    summary: 'Replace a template; unknown variables are refused, health variables need a reason (audited)',
    response: ok(oneTemplateView),
    handler: ({ services, body }) => saveTemplate(services, body.purpose, body.language, body),
  }),
  defineRoute({
    method: 'get', path: '/messaging/outbox', access: 'messaging.outbox', tags: ['messaging'], query: outboxQuery,
    summary: 'The outbox: messages with status, attempts, provider error or the reason they were blocked',
    response: ok(outboxPageView),
    handler: ({ services, query }) => outboxList(services, query),
  }),
  defineRoute({
    method: 'get', path: '/patients/:id/messages', access: 'messaging.send', tags: ['messaging'], params: idParams,
    summary: 'Messages to one patient with their status and, when blocked, the reason',
    response: ok(patientMessagesView),
    handler: ({ services, params }) => patientMessages(services, params.id),
  }),
  defineRoute({
    method: 'post', path: '/patients/:id/messages', access: 'messaging.send', tags: ['messaging'], params: idParams, body: sendBody,
    summary: 'Queue a message to a patient from a template; answered with status queued, or blocked with the reason',
    response: created(sentMessageView),
    handler: async ({ ctx, services, params, body }) => {
      ctx.status = 201;
      ctx.body = await sendToPatient(services, params.id, body);
    },
  }),
];
