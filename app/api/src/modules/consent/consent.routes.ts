import { defineRoute } from '../../http/route.ts';
import { idParams } from '../patients/patient.schema.ts';
import { consentBody } from './consent.schema.ts';
import { listConsents, recordConsent } from './consent.service.ts';
import { created, ok } from '../../http/response.ts';
import { consentsView, recordedConsentView } from './consent.schema.ts';

export const consentRoutes = [
  defineRoute({
    method: 'get', path: '/patients/:id/consents', access: 'consent.read', tags: ['consent'], params: idParams,
    summary: 'Consent log of a patient and the current state per purpose',
    response: ok(consentsView),
    handler: ({ services, params }) => listConsents(services, params.id),
  }),
  defineRoute({
    method: 'post', path: '/patients/:id/consents', access: 'consent.write', tags: ['consent'], params: idParams, body: consentBody,
    summary: 'Record that a consent was granted or withdrawn (append-only)',
    response: created(recordedConsentView),
    handler: async ({ ctx, services, params, body }) => {
      ctx.status = 201;
      ctx.body = { consent: await recordConsent(services, params.id, body) };
    },
  }),
];
