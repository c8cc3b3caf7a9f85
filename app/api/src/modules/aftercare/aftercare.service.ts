// Aftercare and follow-up plans (issue 11, item 2). Admins keep templates of steps relative to an
// anchor date (day 1, 3, 7, 30 … after a surgery): a message and/or a follow-up appointment to
// book. Applied to a patient's treatment plan with an anchor date, the steps are copied into the
// patient's plan (titles encrypted with the patient's key), where each step can get another date or
// be skipped. Messages go through the outbox in the same transaction (purpose aftercare_step,
// automated: an objection or restriction blocks them, visible with the reason), due at 09:00 of
// the step's day in the organization's time zone, dedup key "aftercare:<step id>" (a new date
// moves the queued message). A step whose day has passed when it is written sends nothing.
// Follow-up appointments to book are tasks (the patient's plan, today's list) until an appointment
// is recorded for them. Cancelling the plan cancels every message not yet sent and every task.
import { randomUUID } from 'node:crypto';
import { withScope, type Tx } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import { AppError, notFound, validation } from '../../core/errors.ts';
import type { Services } from '../../http/services.ts';
import { audit } from '../audit/audit.service.ts';
import { patientChannel } from '../appointments/appointment-messages.ts';
import { organizationTimeZone } from '../appointments/appointment.repository.ts';
import { localDay, parseTime } from '../appointments/time-zone.ts';
import { cancelQueued, enqueueMessage, loadPatient } from '../messaging/outbox.service.ts';
import { openJson, patientKey, sealJson } from '../patients/patient.crypto.ts';
import { requirePatient, requireWritable } from '../patients/patient.guard.ts';
import { readScope, scope } from '../patients/patient.service.ts';
import type { ApplyInput, StepPatch, TemplateInput } from './aftercare.schema.ts';

export const planTitleField = (id: string) => `aftercare_plan_title:${id}`;
export const stepTitleField = (id: string) => `aftercare_step_title:${id}`;
export const stepDedupKey = (stepId: string) => `aftercare:${stepId}`;
/** The hour (organization's time zone) at which a step's message is due on its day. */
export const MESSAGE_HOUR = '09:00';

interface TemplateRow { id: string; organization_id: string; name_de: string; name_en: string; active: boolean }
interface TemplateStepRow { id: string; template_id: string; position: number; day_offset: number; send_message: boolean; book_appointment: boolean; title_de: string; title_en: string; appointment_type_id: string | null }
interface PlanRow { id: string; organization_id: string; patient_id: string; template_id: string; plan_entry_id: string; anchor_date: string; title: Buffer; status: 'active' | 'cancelled'; cancelled_at: Date | null; created_at: Date }
interface StepRow { id: string; organization_id: string; plan_id: string; patient_id: string; position: number; day_offset: number; due_date: string; send_message: boolean; book_appointment: boolean; title: Buffer; appointment_type_id: string | null; status: 'open' | 'skipped' | 'booked' | 'cancelled'; appointment_id: string | null }
type Title = { de: string; en: string };

const PLAN_COLUMNS = ['id', 'organization_id', 'patient_id', 'template_id', 'plan_entry_id', 'title', 'status', 'cancelled_at', 'created_at'];
const STEP_COLUMNS = ['id', 'organization_id', 'plan_id', 'patient_id', 'position', 'day_offset', 'send_message', 'book_appointment', 'title', 'appointment_type_id', 'status', 'appointment_id'];
const plans = (trx: Tx) => trx('aftercare_plans').select(...PLAN_COLUMNS, trx.raw('anchor_date::text as anchor_date'));
const steps = (trx: Tx) => trx('aftercare_steps').select(...STEP_COLUMNS, trx.raw('due_date::text as due_date'));

/** YYYY-MM-DD + n days. */
function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// ---- templates ----

async function templateView(trx: Tx, t: TemplateRow) {
  const rows: TemplateStepRow[] = await trx('aftercare_template_steps').where({ template_id: t.id }).orderBy('position');
  return {
    id: t.id, nameDe: t.name_de, nameEn: t.name_en, active: t.active,
    steps: rows.map((s) => ({ id: s.id, position: s.position, dayOffset: s.day_offset, titleDe: s.title_de, titleEn: s.title_en, sendMessage: s.send_message, bookAppointment: s.book_appointment, appointmentTypeId: s.appointment_type_id })),
  };
}

async function checkSteps(trx: Tx, input: TemplateInput): Promise<void> {
  for (const [i, s] of input.steps.entries()) {
    if (!s.sendMessage && !s.bookAppointment) throw validation(`body.steps.${i}.sendMessage`, 'a step sends a message, asks for a follow-up appointment, or both', 'required');
    if (s.appointmentTypeId && !s.bookAppointment) throw validation(`body.steps.${i}.appointmentTypeId`, 'only a step with a follow-up appointment has an appointment type', 'invalid_value');
    if (s.appointmentTypeId) {
      const type = await trx('appointment_types').where({ id: s.appointmentTypeId }).first('active');
      if (!type?.active) throw validation(`body.steps.${i}.appointmentTypeId`, 'is not an active appointment type of this organization', 'not_found');
    }
  }
}

async function writeSteps(trx: Tx, organizationId: string, templateId: string, input: TemplateInput): Promise<void> {
  await trx('aftercare_template_steps').where({ template_id: templateId }).delete();
  const ordered = input.steps.map((s, i) => ({ s, i })).sort((a, b) => a.s.dayOffset - b.s.dayOffset || a.i - b.i);
  await trx('aftercare_template_steps').insert(ordered.map(({ s }, position) => ({
    organization_id: organizationId, template_id: templateId, position, day_offset: s.dayOffset, send_message: s.sendMessage,
    book_appointment: s.bookAppointment, title_de: s.titleDe, title_en: s.titleEn, appointment_type_id: s.appointmentTypeId ?? null,
  })));
}

export async function listTemplates(services: Services) {
  const actor = authorize('aftercare.read');
  return withScope(services.db, scope(actor), async (trx) => {
    const rows: TemplateRow[] = await trx('aftercare_templates').orderBy([{ column: 'active', order: 'desc' }, { column: 'name_de' }, { column: 'id' }]);
    const templates = [];
    for (const t of rows) templates.push(await templateView(trx, t));
    return { templates };
  });
}

export async function createTemplate(services: Services, input: TemplateInput) {
  const actor = authorize('aftercare.configure');
  return withScope(services.db, scope(actor), async (trx) => {
    await checkSteps(trx, input);
    const [t]: TemplateRow[] = await trx('aftercare_templates').insert({ organization_id: actor.organizationId, name_de: input.nameDe, name_en: input.nameEn, active: input.active ?? true, created_by: actor.userId }).returning('*');
    await writeSteps(trx, actor.organizationId, t.id, input);
    await audit(trx, { action: 'aftercare_template.create', objectType: 'aftercare_template', objectId: t.id, details: { steps: input.steps.length } });
    return templateView(trx, t);
  });
}

/** Replaces name, state and steps. Plans already applied keep their own copy of the steps. */
export async function updateTemplate(services: Services, id: string, input: TemplateInput) {
  const actor = authorize('aftercare.configure');
  return withScope(services.db, scope(actor), async (trx) => {
    const existing = await trx('aftercare_templates').where({ id }).forUpdate().first();
    if (!existing) throw notFound('Aftercare template');
    await checkSteps(trx, input);
    const [t]: TemplateRow[] = await trx('aftercare_templates').where({ id }).update({ name_de: input.nameDe, name_en: input.nameEn, active: input.active ?? existing.active, updated_at: trx.fn.now() }).returning('*');
    await writeSteps(trx, actor.organizationId, id, input);
    await audit(trx, { action: 'aftercare_template.update', objectType: 'aftercare_template', objectId: id, details: { steps: input.steps.length, active: t.active } });
    return templateView(trx, t);
  });
}

// ---- a patient's plans ----

async function planView(services: Services, trx: Tx, p: PlanRow) {
  const ref = patientKey(p.organization_id, p.patient_id);
  const rows: StepRow[] = await steps(trx).where({ plan_id: p.id }).orderBy('position');
  const messages = rows.length
    ? await trx('outbox_messages').whereIn('dedup_key', rows.map((s) => stepDedupKey(s.id))).select('id', 'dedup_key', 'status', 'blocked_reason', 'channel', 'send_at')
    : [];
  const byKey = new Map(messages.map((m) => [m.dedup_key as string, m]));
  const out = [];
  for (const s of rows) {
    const m = byKey.get(stepDedupKey(s.id));
    out.push({
      id: s.id, position: s.position, dayOffset: s.day_offset, dueDate: s.due_date, title: await openJson<Title>(services.keys, trx, ref, stepTitleField(s.id), s.title),
      sendMessage: s.send_message, bookAppointment: s.book_appointment, appointmentTypeId: s.appointment_type_id, status: s.status, appointmentId: s.appointment_id,
      message: m ? { id: m.id, status: m.status, blockedReason: m.blocked_reason, channel: m.channel, sendAt: (m.send_at as Date).toISOString() } : null,
    });
  }
  return {
    id: p.id, patientId: p.patient_id, templateId: p.template_id, planEntryId: p.plan_entry_id, anchorDate: p.anchor_date,
    title: await openJson<Title>(services.keys, trx, ref, planTitleField(p.id), p.title), status: p.status,
    cancelledAt: p.cancelled_at ? p.cancelled_at.toISOString() : null, createdAt: p.created_at.toISOString(), steps: out,
  };
}

/** Writes (or moves, or cancels) the outbox message of one step, in the caller's transaction. */
async function scheduleStepMessage(services: Services, trx: Tx, organizationId: string, actorUserId: string | null, s: StepRow, title: Title, zone: string, now = new Date()): Promise<void> {
  const key = stepDedupKey(s.id);
  if (!s.send_message) return;
  if (s.status !== 'open') return void (await cancelQueued(trx, [key]));
  const today = localDay(now, zone);
  if (s.due_date < today) return void (await cancelQueued(trx, [key])); // its day has passed: not sent
  const at = parseTime(`${s.due_date}T${MESSAGE_HOUR}`, zone);
  const sendAt = at.ok && at.instant.getTime() > now.getTime() ? at.instant : now;
  const c = await patientChannel(services, trx, organizationId, s.patient_id);
  if (!c) return void (await cancelQueued(trx, [key]));
  // A cancelled or blocked message of this step (skipped before, or blocked then) stays as it was
  // and gives its key free, so the step is decided afresh.
  await trx('outbox_messages').where({ dedup_key: key }).whereIn('status', ['cancelled', 'blocked'])
    .update({ dedup_key: trx.raw("dedup_key || ':closed:' || id::text"), updated_at: trx.fn.now() });
  await enqueueMessage(services, trx, organizationId, actorUserId, { patientId: s.patient_id, purpose: 'aftercare_step', channel: c.channel, sendAt, dedupKey: key, variables: { stepTitle: title[c.language] } });
}

export async function patientPlans(services: Services, patientId: string) {
  const actor = authorize('aftercare.read');
  return withScope(services.db, readScope(actor), async (trx) => {
    await requirePatient(trx, patientId);
    const rows: PlanRow[] = await plans(trx).where({ patient_id: patientId }).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id' }]);
    const out = [];
    for (const p of rows) out.push(await planView(services, trx, p));
    await audit(trx, { action: 'patient.aftercare.read', objectType: 'patient', objectId: patientId, details: { count: out.length } });
    return { timeZone: await organizationTimeZone(trx, actor.organizationId), plans: out };
  });
}

export async function applyPlan(services: Services, patientId: string, input: ApplyInput) {
  const actor = authorize('aftercare.write');
  return withScope(services.db, scope(actor), async (trx) => {
    await requireWritable(trx, patientId);
    const template: TemplateRow | undefined = await trx('aftercare_templates').where({ id: input.templateId }).first();
    if (!template || !template.active) throw validation('body.templateId', 'is not an active aftercare template of this organization', 'not_found');
    const entry = await trx('record_entries').where({ id: input.planEntryId }).first('patient_id', 'kind');
    if (!entry || entry.patient_id !== patientId || entry.kind !== 'plan') throw validation('body.planEntryId', 'is not a treatment plan of this patient', 'not_found');
    const superseded = await trx('record_entries').where({ supersedes_id: input.planEntryId }).first('id');
    if (superseded) throw validation('body.planEntryId', 'has been corrected; choose its current version', 'superseded');
    const zone = await organizationTimeZone(trx, actor.organizationId);
    const ref = patientKey(actor.organizationId, patientId);
    const planId = randomUUID();
    await trx('aftercare_plans').insert({
      id: planId, organization_id: actor.organizationId, patient_id: patientId, template_id: template.id, plan_entry_id: input.planEntryId,
      anchor_date: input.anchorDate, title: await sealJson(services.keys, trx, ref, planTitleField(planId), { de: template.name_de, en: template.name_en }),
      created_by: actor.userId, updated_by: actor.userId,
    });
    const tsteps: TemplateStepRow[] = await trx('aftercare_template_steps').where({ template_id: template.id }).orderBy('position');
    for (const t of tsteps) {
      const id = randomUUID();
      const title = { de: t.title_de, en: t.title_en };
      const row = {
        id, organization_id: actor.organizationId, plan_id: planId, patient_id: patientId, position: t.position, day_offset: t.day_offset,
        due_date: addDays(input.anchorDate, t.day_offset), send_message: t.send_message, book_appointment: t.book_appointment,
        title: await sealJson(services.keys, trx, ref, stepTitleField(id), title), appointment_type_id: t.appointment_type_id, updated_by: actor.userId,
      };
      await trx('aftercare_steps').insert(row);
      await scheduleStepMessage(services, trx, actor.organizationId, actor.userId, { ...row, status: 'open', appointment_id: null }, title, zone);
    }
    await audit(trx, { action: 'aftercare_plan.apply', objectType: 'patient', objectId: patientId, details: { planId, templateId: template.id, planEntryId: input.planEntryId, steps: tsteps.length } });
    return planView(services, trx, (await plans(trx).where({ id: planId }).first())!);
  });
}

async function activePlanFor(trx: Tx, planId: string): Promise<PlanRow> {
  const p: PlanRow | undefined = await plans(trx).where({ id: planId }).forUpdate().first();
  if (!p) throw notFound('Aftercare plan');
  if (p.status !== 'active') throw new AppError(409, 'invalid_transition', 'The aftercare plan has been cancelled', { status: p.status });
  return p;
}

/** Another date, a skip (or its undo), or the follow-up appointment that was booked. */
export async function updateStep(services: Services, stepId: string, input: StepPatch) {
  const actor = authorize('aftercare.write');
  if (input.status !== undefined && input.appointmentId !== undefined) throw validation('body.appointmentId', 'record a booking or change the status, not both', 'invalid_value');
  return withScope(services.db, scope(actor), async (trx) => {
    const s: StepRow | undefined = await steps(trx).where({ id: stepId }).first();
    if (!s) throw notFound('Aftercare step');
    const plan = await activePlanFor(trx, s.plan_id);
    await requireWritable(trx, s.patient_id);
    const patch: Partial<StepRow> & { updated_by: string } = { updated_by: actor.userId };
    if (input.dueDate !== undefined) patch.due_date = input.dueDate;
    if (input.status !== undefined) {
      if (s.status === 'booked') throw new AppError(409, 'invalid_transition', 'A booked step cannot be skipped; cancel the appointment in the calendar', { status: s.status });
      patch.status = input.status;
    }
    if (input.appointmentId !== undefined) {
      if (!s.book_appointment) throw validation('body.appointmentId', 'this step has no follow-up appointment', 'invalid_value');
      const a = await trx('appointments').where({ id: input.appointmentId }).first('patient_id', 'status');
      if (!a || a.patient_id !== s.patient_id || a.status === 'cancelled') throw validation('body.appointmentId', 'is not a current appointment of this patient', 'not_found');
      patch.appointment_id = input.appointmentId;
      patch.status = 'booked';
    }
    await trx('aftercare_steps').where({ id: stepId }).update({ ...patch, updated_at: trx.fn.now() });
    const after: StepRow = (await steps(trx).where({ id: stepId }).first())!;
    const title = await openJson<Title>(services.keys, trx, patientKey(s.organization_id, s.patient_id), stepTitleField(s.id), s.title);
    await scheduleStepMessage(services, trx, actor.organizationId, actor.userId, after, title, await organizationTimeZone(trx, actor.organizationId));
    await audit(trx, { action: 'aftercare_step.update', objectType: 'patient', objectId: s.patient_id, details: { planId: plan.id, stepId, fields: Object.keys(input) } });
    return planView(services, trx, plan);
  });
}

/** Cancels the plan: every message not yet sent and every open task. */
export async function cancelPlan(services: Services, planId: string) {
  const actor = authorize('aftercare.write');
  return withScope(services.db, scope(actor), async (trx) => {
    const plan = await activePlanFor(trx, planId);
    await requirePatient(trx, plan.patient_id);
    const rows: { id: string }[] = await trx('aftercare_steps').where({ plan_id: planId }).select('id');
    const cancelledMessages = await cancelQueued(trx, rows.map((r) => stepDedupKey(r.id)));
    await trx('aftercare_steps').where({ plan_id: planId, status: 'open' }).update({ status: 'cancelled', updated_by: actor.userId, updated_at: trx.fn.now() });
    await trx('aftercare_plans').where({ id: planId }).update({ status: 'cancelled', cancelled_at: trx.fn.now(), updated_by: actor.userId, updated_at: trx.fn.now() });
    await audit(trx, { action: 'aftercare_plan.cancel', objectType: 'patient', objectId: plan.patient_id, details: { planId, cancelledMessages } });
    return planView(services, trx, (await plans(trx).where({ id: planId }).first())!);
  });
}

/** Follow-up appointments still to book, due within `days` days from today (overdue included). */
export async function tasks(services: Services, days = 0, now = new Date()) {
  const actor = authorize('aftercare.read');
  return withScope(services.db, readScope(actor), async (trx) => {
    const zone = await organizationTimeZone(trx, actor.organizationId);
    const date = localDay(now, zone);
    const rows: StepRow[] = await steps(trx)
      .where({ status: 'open', book_appointment: true }).where('due_date', '<=', addDays(date, days))
      .whereIn('plan_id', trx('aftercare_plans').where({ status: 'active' }).select('id'))
      .orderBy([{ column: 'due_date' }, { column: 'id' }]).limit(500);
    const out = [];
    for (const s of rows) {
      const { row, master } = await loadPatient(services, trx, s.patient_id);
      if (!row || !master) continue;
      out.push({
        stepId: s.id, planId: s.plan_id, patientId: s.patient_id, dueDate: s.due_date, appointmentTypeId: s.appointment_type_id,
        title: await openJson<Title>(services.keys, trx, patientKey(s.organization_id, s.patient_id), stepTitleField(s.id), s.title),
        patient: { givenName: master.givenName, familyName: master.familyName, birthDate: master.birthDate },
      });
    }
    await audit(trx, { action: 'aftercare.tasks.list', objectType: 'aftercare', details: { date, days, ids: [...new Set(out.map((x) => x.patientId))] } });
    return { date, tasks: out };
  });
}
