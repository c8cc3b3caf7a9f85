import { defineRoute } from '../../http/route.ts';
import { ok } from '../../http/response.ts';
import { idParams } from '../patients/patient.schema.ts';
import { timelineQuery, timelineView } from './timeline.schema.ts';
import { patientTimeline } from './timeline.service.ts';

export const timelineRoutes = [
  defineRoute({
    method: 'get', path: '/patients/:id/timeline', access: 'patients.read', tags: ['health-record'], params: idParams, query: timelineQuery,
    summary: 'The Karteikarte: every module\'s lines about a patient, newest first, only the types the role may read (audited like the record)',
    response: ok(timelineView),
    handler: ({ services, params, query }) => patientTimeline(services, params.id, query),
  }),
];
