import { defineRoute } from '../../http/route.ts';
import { ok, created } from '../../http/response.ts';
import { idParams } from '../patients/patient.schema.ts';
import { assigneesView, conversationStateBody, conversationStateView, conversationView, inboxQuery, inboxView, replyBody, sentMessageView } from './messaging.schema.ts';
import { conversation, listAssignees, listInbox, patientFromProspect, readInboundMedia, reply, setState } from './inbox.service.ts';
import { z } from 'zod';
import { file } from '../../http/response.ts';
import { createPatientBody, onePatientView } from '../patients/patient.schema.ts';

const subject = (kind: 'patients' | 'prospects', id: string) => ({ kind: kind === 'patients' ? 'patient' as const : 'prospect' as const, id });

export const inboxRoutes = [
  defineRoute({
    method: 'get', path: '/inbox', access: 'inbox.read', tags: ['inbox'], query: inboxQuery,
    summary: 'The shared inbox: conversations with patients and prospects, unread counts, assignment, done',
    response: ok(inboxView),
    handler: ({ services, query }) => listInbox(services, query),
  }),
  defineRoute({
    method: 'get', path: '/inbox/assignees', access: 'inbox.read', tags: ['inbox'],
    summary: 'Active staff members of the organization who may read the inbox: whom a conversation can be assigned to',
    response: ok(assigneesView),
    handler: ({ services }) => listAssignees(services),
  }),
  ...(['patients', 'prospects'] as const).flatMap((kind) => [
    defineRoute({
      method: 'get', path: `/inbox/${kind}/:id`, access: 'inbox.read', tags: ['inbox'], params: idParams,
      summary: `One conversation with a ${kind === 'patients' ? 'patient' : 'prospect'}, inbound and outbound messages in order; reading it is audited and marks it read`,
      response: ok(conversationView),
      handler: ({ services, params }) => conversation(services, subject(kind, params.id)),
    }),
    defineRoute({
      method: 'get', path: `/inbox/${kind}/:id/media/:messageId`, access: 'inbox.read', tags: ['inbox'],
      params: z.strictObject({ id: z.uuid(), messageId: z.uuid() }),
      summary: `The decrypted image, document, voice message or video of an inbound message from a ${kind === 'patients' ? 'patient' : 'prospect'}; audited, never cached`,
      response: file('the decrypted media in the type the provider named', ['image/jpeg', 'image/png', 'image/webp', 'application/pdf', 'audio/ogg', 'audio/mpeg', 'audio/mp4', 'video/mp4', 'application/octet-stream']),
      handler: async ({ ctx, services, params }) => {
        const m = await readInboundMedia(services, subject(kind, params.id), params.messageId);
        ctx.set('cache-control', 'no-store');
        ctx.set('x-content-type-options', 'nosniff');
        ctx.set('content-disposition', `${m.kind === 'document' ? 'attachment' : 'inline'}; filename="${m.name}"`);
        ctx.type = m.contentType;
        ctx.body = m.data;
      },
    }),
    defineRoute({
      method: 'put', path: `/inbox/${kind}/:id/state`, access: 'inbox.read', tags: ['inbox'], params: idParams, body: conversationStateBody,
      summary: `Assign a conversation with a ${kind === 'patients' ? 'patient' : 'prospect'} to a staff member (or nobody) and mark it done or open`,
      response: ok(conversationStateView),
      handler: ({ services, params, body }) => setState(services, subject(kind, params.id), body),
    }),
  ]),
  defineRoute({
    method: 'post', path: '/inbox/patients/:id/reply', access: 'messaging.send', tags: ['inbox'], params: idParams, body: replyBody,
    summary: 'Reply over WhatsApp through the outbox: free text within 24 h of the patient\'s last message, otherwise a template',
    response: created(sentMessageView),
    handler: async ({ ctx, services, params, body }) => {
      ctx.status = 201;
      ctx.body = await reply(services, params.id, body);
    },
  }),
  defineRoute({
    method: 'post', path: '/inbox/prospects/:id/patient', access: 'patients.write', tags: ['inbox'], params: idParams, body: createPatientBody,
    summary: 'Create a patient from a prospect: the number and the conversation move to the patient, the prospect is removed',
    response: created(onePatientView),
    handler: async ({ ctx, services, params, body }) => {
      ctx.status = 201;
      ctx.body = await patientFromProspect(services, params.id, body);
    },
  }),
];
