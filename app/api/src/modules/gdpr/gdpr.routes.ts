import { z } from 'zod';
import { defineRoute } from '../../http/route.ts';
import { idParams } from '../patients/patient.schema.ts';
import { accessLog, exportPatient } from './export.service.ts';
import { erasePatient } from './erasure.service.ts';
import { REASON_CATEGORIES } from './erasure-reason.schema.ts';
import { eraseErasureReason, erasureRecord } from './erasure-record.service.ts';
import { setObjection, setRestriction } from './restriction.service.ts';
import { file, ok } from '../../http/response.ts';
import { accessLogView, erasedView, erasureRecordView, objectionView, reasonErasedView, restrictionView } from './gdpr.schema.ts';

export const gdprRoutes = [
  defineRoute({
    method: 'get', path: '/patients/:id/export', access: 'gdpr.export', tags: ['gdpr'], params: idParams,
    query: z.strictObject({ format: z.enum(['json', 'fhir']).default('json'), download: z.enum(['0', '1']).optional() }),
    summary: 'Art. 15/20 export of everything about the patient: documented JSON or a FHIR R4 Bundle',
    response: file('everything about the patient: documented JSON (docs/patients.md) or a FHIR R4 Bundle', ['application/json', 'application/fhir+json']),
    handler: async ({ ctx, services, params, query }) => {
      const data = await exportPatient(services, params.id, query.format);
      ctx.set('cache-control', 'no-store');
      if (query.download === '1') ctx.set('content-disposition', `attachment; filename="patient-${params.id}.${query.format === 'fhir' ? 'fhir.json' : 'json'}"`);
      if (query.format === 'fhir') ctx.type = 'application/fhir+json';
      ctx.body = data;
    },
  }),
  defineRoute({
    method: 'post', path: '/patients/:id/restriction', access: 'gdpr.restrict', tags: ['gdpr'], params: idParams,
    body: z.strictObject({ restricted: z.boolean(), reason: z.string().trim().min(1).max(1000).optional() }),
    summary: 'Art. 18: restrict processing (the record becomes read-only) or lift the restriction',
    response: ok(restrictionView),
    handler: ({ services, params, body }) => setRestriction(services, params.id, body),
  }),
  defineRoute({
    method: 'post', path: '/patients/:id/objection', access: 'gdpr.restrict', tags: ['gdpr'], params: idParams,
    body: z.strictObject({ objected: z.boolean() }),
    summary: 'Art. 21: switch automated processing (reminders, AI preparation) off or on again',
    response: ok(objectionView),
    handler: ({ services, params, body }) => setObjection(services, params.id, body),
  }),
  defineRoute({
    method: 'post', path: '/patients/:id/erasure', access: 'gdpr.erase', tags: ['gdpr'], params: idParams,
    body: z.strictObject({
      override: z.boolean().optional(), reasonCategory: z.enum(REASON_CATEGORIES).optional(), reason: z.string().trim().min(1).max(500).optional(), confirm: z.literal(true),
    }),
    summary: 'Art. 17 hard delete (rows, blobs, data key; erasure ledger). Inside the retention period: override + reasonCategory + reason (the reason is stored encrypted, erasable)',
    response: ok(erasedView),
    handler: ({ services, params, body }) => erasePatient(services, params.id, body),
  }),
  defineRoute({
    method: 'get', path: '/patients/:id/erasure', access: 'gdpr.erase', tags: ['gdpr'], params: idParams,
    summary: 'What is kept about an erasure: time, override, reason category, and the reason unless it was erased',
    response: ok(erasureRecordView),
    handler: ({ services, params }) => erasureRecord(services, params.id),
  }),
  defineRoute({
    method: 'delete', path: '/patients/:id/erasure/reason', access: 'gdpr.erase', tags: ['gdpr'], params: idParams,
    summary: 'Erase the free-text override reason for good (its key is destroyed; the category stays in the audit log)',
    response: ok(reasonErasedView),
    handler: ({ services, params }) => eraseErasureReason(services, params.id),
  }),
  defineRoute({
    method: 'get', path: '/patients/:id/access-log', access: 'patients.access_log', tags: ['gdpr'], params: idParams,
    query: z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(200) }),
    summary: 'Who read or changed this record, newest first (from the audit log)',
    response: ok(accessLogView),
    handler: ({ services, params, query }) => accessLog(services, params.id, query.limit),
  }),
];
