import { defineRoute } from '../../http/route.ts';
import { created, ok } from '../../http/response.ts';
import { idParams } from '../patients/patient.schema.ts';
import {
  applyBody, patientPlansResult, planIdParams, planResult, stepIdParams, stepPatchBody, tasksQuery, tasksResult, templateBody,
  templateIdParams, templateResult, templatesResult,
} from './aftercare.schema.ts';
import { applyPlan, cancelPlan, createTemplate, listTemplates, patientPlans, tasks, updateStep, updateTemplate } from './aftercare.service.ts';

const tags = ['aftercare'];

export const aftercareRoutes = [
  defineRoute({
    method: 'get', path: '/aftercare/templates', access: 'aftercare.read', tags,
    summary: 'The organization\'s aftercare plan templates with their steps',
    response: ok(templatesResult),
    handler: ({ services }) => listTemplates(services),
  }),
  defineRoute({
    method: 'post', path: '/aftercare/templates', access: 'aftercare.configure', tags, body: templateBody,
    summary: 'Create an aftercare plan template (names in German and English, steps relative to the anchor day)',
    response: created(templateResult),
    handler: async ({ ctx, services, body }) => {
      ctx.status = 201;
      ctx.body = { template: await createTemplate(services, body) };
    },
  }),
  defineRoute({
    method: 'put', path: '/aftercare/templates/:templateId', access: 'aftercare.configure', tags, params: templateIdParams, body: templateBody,
    summary: 'Replace an aftercare plan template (plans already applied keep their steps)',
    response: ok(templateResult),
    handler: async ({ services, params, body }) => ({ template: await updateTemplate(services, params.templateId, body) }),
  }),
  defineRoute({
    method: 'get', path: '/patients/:id/aftercare', access: 'aftercare.read', tags, params: idParams,
    summary: 'A patient\'s aftercare plans with their steps, messages and follow-ups (audited read)',
    response: ok(patientPlansResult),
    handler: ({ services, params }) => patientPlans(services, params.id),
  }),
  defineRoute({
    method: 'post', path: '/patients/:id/aftercare', access: 'aftercare.write', tags, params: idParams, body: applyBody,
    summary: 'Apply an aftercare template to a patient\'s treatment plan with an anchor date; messages are queued',
    response: created(planResult),
    handler: async ({ ctx, services, params, body }) => {
      ctx.status = 201;
      ctx.body = { plan: await applyPlan(services, params.id, body) };
    },
  }),
  defineRoute({
    method: 'patch', path: '/aftercare/steps/:stepId', access: 'aftercare.write', tags, params: stepIdParams, body: stepPatchBody,
    summary: 'Give a step another date, skip it (or undo), or record the booked follow-up appointment',
    response: ok(planResult),
    handler: async ({ services, params, body }) => ({ plan: await updateStep(services, params.stepId, body) }),
  }),
  defineRoute({
    method: 'post', path: '/aftercare/plans/:planId/cancel', access: 'aftercare.write', tags, params: planIdParams,
    summary: 'Cancel an aftercare plan: nothing not yet sent goes out, open follow-ups are dropped',
    response: ok(planResult),
    handler: async ({ services, params }) => ({ plan: await cancelPlan(services, params.planId) }),
  }),
  defineRoute({
    method: 'get', path: '/aftercare/tasks', access: 'aftercare.read', tags, query: tasksQuery,
    summary: 'Follow-up appointments still to book (due today or overdue, or within `days` days)',
    response: ok(tasksResult),
    handler: ({ services, query }) => tasks(services, query.days ?? 0),
  }),
];
