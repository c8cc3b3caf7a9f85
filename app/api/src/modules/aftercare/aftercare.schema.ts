// Request and answer schemas of the aftercare routes (templates, a patient's plans, steps, tasks).
import { z } from 'zod';
import { isoDay, isoTime, named } from '../../http/response.ts';
import { isoDate } from '../patients/patient.schema.ts';

const id = z.uuid();
export const STEP_STATUSES = ['open', 'skipped', 'booked', 'cancelled'] as const;
export const PLAN_STATUSES = ['active', 'cancelled'] as const;

export const templateIdParams = z.strictObject({ templateId: id });
export const planIdParams = z.strictObject({ planId: id });
export const stepIdParams = z.strictObject({ stepId: id });

const stepBody = z.strictObject({
  /** Days after the anchor date (0 = the anchor day itself). */
  dayOffset: z.number().int().min(0).max(3650),
  titleDe: z.string().trim().min(1).max(200),
  titleEn: z.string().trim().min(1).max(200),
  /** A message to the patient on that day (purpose aftercare_step; the title is its {{stepTitle}}). */
  sendMessage: z.boolean(),
  /** A follow-up appointment to book: a task in the plan and today's list until booked. */
  bookAppointment: z.boolean(),
  appointmentTypeId: id.nullable().optional(),
});
export const templateBody = z.strictObject({
  nameDe: z.string().trim().min(1).max(200),
  nameEn: z.string().trim().min(1).max(200),
  active: z.boolean().optional(),
  steps: z.array(stepBody).min(1).max(50),
});
export type TemplateInput = z.infer<typeof templateBody>;

export const applyBody = z.strictObject({
  templateId: id,
  /** The patient's treatment plan (a record entry of kind plan) the aftercare belongs to. */
  planEntryId: id,
  /** Day 0 of the plan, e.g. the day of the surgery (the organization's calendar). */
  anchorDate: isoDate,
});
export type ApplyInput = z.infer<typeof applyBody>;

export const stepPatchBody = z.strictObject({
  dueDate: isoDate.optional(),
  /** skipped: nothing is sent and no task remains; open: undo a skip. */
  status: z.enum(['open', 'skipped']).optional(),
  /** The follow-up appointment booked for this step (an appointment of the same patient). */
  appointmentId: id.optional(),
});
export type StepPatch = z.infer<typeof stepPatchBody>;

export const tasksQuery = z.strictObject({
  /** Tasks due up to this many days ahead (default 0: due today or overdue). */
  days: z.coerce.number().int().min(0).max(60).optional(),
});

// ---- answers ----
const templateStepView = z.strictObject({
  id: z.uuid(), position: z.number().int(), dayOffset: z.number().int(), titleDe: z.string(), titleEn: z.string(),
  sendMessage: z.boolean(), bookAppointment: z.boolean(), appointmentTypeId: z.uuid().nullable(),
});
export const aftercareTemplateView = named('AftercareTemplate', z.strictObject({
  id: z.uuid(), nameDe: z.string(), nameEn: z.string(), active: z.boolean(), steps: z.array(templateStepView),
}));
export const templatesResult = z.strictObject({ templates: z.array(aftercareTemplateView) });
export const templateResult = z.strictObject({ template: aftercareTemplateView });

export const aftercareStepView = named('AftercareStep', z.strictObject({
  id: z.uuid(), position: z.number().int(), dayOffset: z.number().int(), dueDate: isoDay,
  title: z.strictObject({ de: z.string(), en: z.string() }),
  sendMessage: z.boolean(), bookAppointment: z.boolean(), appointmentTypeId: z.uuid().nullable(),
  status: z.enum(STEP_STATUSES), appointmentId: z.uuid().nullable(),
  /** The outbox message of the step: its state and, when blocked, why; null when none was written. */
  message: z.strictObject({ id: z.uuid(), status: z.string(), blockedReason: z.string().nullable(), channel: z.string(), sendAt: isoTime }).nullable(),
}));
export const aftercarePlanView = named('AftercarePlan', z.strictObject({
  id: z.uuid(), patientId: z.uuid(), templateId: z.uuid(), planEntryId: z.uuid(), anchorDate: isoDay,
  title: z.strictObject({ de: z.string(), en: z.string() }), status: z.enum(PLAN_STATUSES),
  cancelledAt: isoTime.nullable(), createdAt: isoTime, steps: z.array(aftercareStepView),
}));
export const patientPlansResult = z.strictObject({ timeZone: z.string(), plans: z.array(aftercarePlanView) });
export const planResult = z.strictObject({ plan: aftercarePlanView });
export const tasksResult = z.strictObject({
  date: isoDay,
  tasks: z.array(z.strictObject({
    stepId: z.uuid(), planId: z.uuid(), patientId: z.uuid(), dueDate: isoDay, title: z.strictObject({ de: z.string(), en: z.string() }),
    appointmentTypeId: z.uuid().nullable(), patient: z.strictObject({ givenName: z.string(), familyName: z.string(), birthDate: z.string().optional() }),
  })),
});
