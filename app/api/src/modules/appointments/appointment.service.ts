// Appointments: book, move/resize (optimistic concurrency), status changes with cancel reason,
// calendar ranges per practitioner or room, a patient's appointments and today's list. The rule
// "no double booking" lives in PostgreSQL (exclusion constraints); this module turns its verdict
// into a 409 that names the conflicting appointment.
import { randomUUID } from 'node:crypto';
import { withScope, type Tx } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import { AppError, notFound, validation } from '../../core/errors.ts';
import type { Actor } from '../../core/context.ts';
import { permits } from '../../core/permissions.ts';
import type { Services } from '../../http/services.ts';
import { audit } from '../audit/audit.service.ts';
import { openJson, openText, patientKey, rememberKey, sealText } from '../patients/patient.crypto.ts';
import { requirePatient, requireWritable } from '../patients/patient.guard.ts';
import { readScope, scope } from '../patients/patient.service.ts';
import type { MasterData } from '../patients/patient.schema.ts';
import * as repo from './appointment.repository.ts';
import { TRANSITIONS, type CreateInput, type PatchInput, type RangeQuery, type Status, type StatusInput } from './appointment.schema.ts';
import { dayFrames, localDay, parseTime } from './time-zone.ts';

export const notesField = (id: string) => `appointment_notes:${id}`;
export const cancelReasonField = (id: string) => `appointment_cancel_reason:${id}`;
const MAX_MS = 24 * 3_600_000;

export async function appointmentView(services: Services, trx: Tx, r: repo.AppointmentWithPatient) {
  const ref = patientKey(r.organization_id, r.patient_id);
  if (r.key_id) rememberKey(services.keys, trx, ref, r);
  const m = await openJson<MasterData>(services.keys, trx, ref, 'master', r.patient_data!);
  return {
    id: r.id, patientId: r.patient_id,
    patient: { givenName: m.givenName, familyName: m.familyName, birthDate: m.birthDate },
    typeId: r.type_id, practitionerId: r.practitioner_id, roomId: r.room_id,
    startsAt: r.starts_at, endsAt: r.ends_at, status: r.status as Status,
    cancelReason: await openText(services.keys, trx, ref, cancelReasonField(r.id), r.cancel_reason),
    cancelledAt: r.cancelled_at, arrivedAt: r.arrived_at,
    notes: await openText(services.keys, trx, ref, notesField(r.id), r.notes),
    version: r.version, createdBy: r.created_by, updatedBy: r.updated_by, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}
export type AppointmentView = Awaited<ReturnType<typeof appointmentView>>;

async function views(services: Services, trx: Tx, rows: repo.AppointmentWithPatient[]) {
  const out = [];
  for (const r of rows) if (r.patient_data) out.push(await appointmentView(services, trx, r));
  return out;
}

function time(value: string, zone: string, field: string): Date {
  const r = parseTime(value, zone);
  if (!r.ok) throw validation(field, r.message, r.code);
  return r.instant;
}

/** start + (end | duration | the type's default) → a checked period. */
function period(zone: string, start: Date, end: { value?: string; minutes?: number; fallbackMinutes: number }, startField = 'body.start'): { startsAt: Date; endsAt: Date } {
  let endsAt: Date;
  if (end.value !== undefined) endsAt = time(end.value, zone, 'body.end');
  else endsAt = new Date(start.getTime() + (end.minutes ?? end.fallbackMinutes) * 60_000);
  const field = end.value !== undefined ? 'body.end' : end.minutes !== undefined ? 'body.durationMinutes' : startField;
  if (endsAt.getTime() <= start.getTime()) throw validation(field, 'must be after the start (an appointment cannot be empty or end before it begins)', 'not_after_start');
  if (endsAt.getTime() - start.getTime() > MAX_MS) throw validation(field, 'an appointment lasts at most 24 hours', 'max_duration');
  return { startsAt: start, endsAt };
}

async function checkType(trx: Tx, id: string, field: string): Promise<repo.TypeRow> {
  const t = await repo.findType(trx, id);
  if (!t || !t.active) throw validation(field, 'is not an active appointment type of this organization', 'not_found');
  return t;
}

async function checkResource(trx: Tx, id: string | null | undefined, kind: 'practitioner' | 'room', field: string): Promise<void> {
  if (!id) return;
  const r = await repo.findResource(trx, id);
  if (!r || !r.active || r.kind !== kind) throw validation(field, `is not an active ${kind} of this organization`, 'not_found');
}

const CONSTRAINTS: Record<string, { column: 'practitioner_id' | 'room_id'; field: string }> = {
  appointments_no_double_booking_practitioner: { column: 'practitioner_id', field: 'practitionerId' },
  appointments_no_double_booking_room: { column: 'room_id', field: 'roomId' },
};

/**
 * Runs a write inside a savepoint. When PostgreSQL's exclusion constraint refuses it, the
 * savepoint is rolled back and the appointment that holds the slot is looked up for the answer:
 * its id and times always, its patient only for callers who may read patient data.
 */
async function guardDoubleBooking(trx: Tx, actor: Actor, slot: { practitionerId: string | null; roomId: string | null; startsAt: Date; endsAt: Date; except?: string }, write: () => Promise<void>): Promise<void> {
  await trx.raw('savepoint appointment_write');
  try {
    await write();
  } catch (err) {
    const e = err as { code?: string; constraint?: string };
    if (e?.code !== '23P01' || !e.constraint || !CONSTRAINTS[e.constraint]) throw err;
    await trx.raw('rollback to savepoint appointment_write');
    const { column, field } = CONSTRAINTS[e.constraint];
    const resourceId = column === 'practitioner_id' ? slot.practitionerId! : slot.roomId!;
    const [other] = await repo.overlapping(trx, column, resourceId, slot.startsAt, slot.endsAt, slot.except);
    const conflicting = other
      ? { id: other.id, startsAt: other.starts_at.toISOString(), endsAt: other.ends_at.toISOString(), ...(permits(actor, 'patients.read') ? { patientId: other.patient_id } : {}) }
      : null;
    throw new AppError(409, 'double_booking', `${field}: the ${column === 'practitioner_id' ? 'practitioner' : 'room'} is already booked at this time`, {
      field: `body.${field}`, resourceId, conflicting,
    });
  }
  await trx.raw('release savepoint appointment_write');
}

export async function createAppointment(services: Services, input: CreateInput): Promise<AppointmentView> {
  const actor = authorize('appointments.write');
  if (!input.practitionerId && !input.roomId) throw validation('body.practitionerId', 'an appointment needs a practitioner or a room', 'required');
  if (input.end !== undefined && input.durationMinutes !== undefined) throw validation('body.durationMinutes', 'give either end or durationMinutes', 'invalid_value');
  return withScope(services.db, scope(actor), async (trx) => {
    const zone = await repo.organizationTimeZone(trx, actor.organizationId);
    const start = time(input.start, zone, 'body.start');
    const type = await checkType(trx, input.typeId, 'body.typeId');
    const { startsAt, endsAt } = period(zone, start, { value: input.end, minutes: input.durationMinutes, fallbackMinutes: type.default_minutes });
    await checkResource(trx, input.practitionerId, 'practitioner', 'body.practitionerId');
    await checkResource(trx, input.roomId, 'room', 'body.roomId');
    await requireWritable(trx, input.patientId).catch((err: unknown) => {
      throw (err as AppError)?.status === 404 ? validation('body.patientId', 'is not a patient of this organization', 'not_found') : err;
    });
    const id = randomUUID();
    const ref = patientKey(actor.organizationId, input.patientId);
    const notes = await sealText(services.keys, trx, ref, notesField(id), input.notes || undefined);
    const slot = { practitionerId: input.practitionerId ?? null, roomId: input.roomId ?? null, startsAt, endsAt };
    await guardDoubleBooking(trx, actor, slot, () => repo.insertAppointment(trx, {
      id, organization_id: actor.organizationId, patient_id: input.patientId, type_id: type.id,
      practitioner_id: slot.practitionerId, room_id: slot.roomId, starts_at: startsAt, ends_at: endsAt,
      status: input.status ?? 'planned', notes, created_by: actor.userId, updated_by: actor.userId,
    }));
    await audit(trx, { action: 'appointment.create', objectType: 'patient', objectId: input.patientId, details: { appointmentId: id } });
    return appointmentView(services, trx, (await repo.findAppointment(trx, id))!);
  });
}

async function loadForUpdate(trx: Tx, id: string, version: number): Promise<repo.AppointmentWithPatient> {
  const row = await repo.findAppointment(trx, id, true);
  if (!row || !row.patient_data) throw notFound('Appointment');
  if (row.version !== version) {
    throw new AppError(409, 'stale', `The appointment changed meanwhile (version ${row.version}); reload and try again`, { version: row.version });
  }
  return row;
}

/** Move, resize, re-assign, change type or notes. Times keep what is not sent: a move keeps the duration. */
export async function updateAppointment(services: Services, id: string, input: PatchInput): Promise<AppointmentView> {
  const actor = authorize('appointments.write');
  if (input.end !== undefined && input.durationMinutes !== undefined) throw validation('body.durationMinutes', 'give either end or durationMinutes', 'invalid_value');
  return withScope(services.db, scope(actor), async (trx) => {
    const row = await loadForUpdate(trx, id, input.version);
    if (row.status === 'cancelled' || row.status === 'done') throw new AppError(409, 'invalid_transition', `A ${row.status} appointment cannot be changed`, { status: row.status });
    const zone = await repo.organizationTimeZone(trx, actor.organizationId);
    const start = input.start !== undefined ? time(input.start, zone, 'body.start') : row.starts_at;
    const keep = row.ends_at.getTime() - row.starts_at.getTime();
    const { startsAt, endsAt } = period(zone, start, { value: input.end, minutes: input.durationMinutes, fallbackMinutes: keep / 60_000 });
    if (input.typeId !== undefined) await checkType(trx, input.typeId, 'body.typeId');
    if (input.practitionerId) await checkResource(trx, input.practitionerId, 'practitioner', 'body.practitionerId');
    if (input.roomId) await checkResource(trx, input.roomId, 'room', 'body.roomId');
    const practitionerId = input.practitionerId !== undefined ? input.practitionerId : row.practitioner_id;
    const roomId = input.roomId !== undefined ? input.roomId : row.room_id;
    if (!practitionerId && !roomId) throw validation('body.practitionerId', 'an appointment needs a practitioner or a room', 'required');
    const patch: Partial<repo.AppointmentRow> = { starts_at: startsAt, ends_at: endsAt, practitioner_id: practitionerId, room_id: roomId, updated_by: actor.userId };
    if (input.typeId !== undefined) patch.type_id = input.typeId;
    if (input.notes !== undefined) {
      await requireWritable(trx, row.patient_id);
      patch.notes = await sealText(services.keys, trx, patientKey(row.organization_id, row.patient_id), notesField(id), input.notes || null);
    }
    await guardDoubleBooking(trx, actor, { practitionerId, roomId, startsAt, endsAt, except: id }, () => repo.updateAppointment(trx, id, patch));
    const fields = Object.keys(input).filter((k) => k !== 'version');
    await audit(trx, { action: 'appointment.update', objectType: 'patient', objectId: row.patient_id, details: { appointmentId: id, fields } });
    return appointmentView(services, trx, (await repo.findAppointment(trx, id))!);
  });
}

export async function changeStatus(services: Services, id: string, input: StatusInput): Promise<AppointmentView> {
  const actor = authorize('appointments.write');
  if (input.status === 'cancelled' && !input.reason) throw validation('body.reason', 'a cancellation needs a reason', 'required');
  if (input.status !== 'cancelled' && input.reason !== undefined) throw validation('body.reason', 'only a cancellation takes a reason', 'invalid_value');
  return withScope(services.db, scope(actor), async (trx) => {
    const row = await loadForUpdate(trx, id, input.version);
    const from = row.status as Status;
    if (from !== input.status && !TRANSITIONS[from].includes(input.status)) {
      throw new AppError(409, 'invalid_transition', `An appointment cannot go from ${from} to ${input.status}`, { from, to: input.status });
    }
    const patch: Partial<repo.AppointmentRow> = { status: input.status, updated_by: actor.userId };
    if (input.status === 'cancelled') {
      patch.cancelled_at = new Date();
      patch.cancel_reason = await sealText(services.keys, trx, patientKey(row.organization_id, row.patient_id), cancelReasonField(id), input.reason);
    }
    if (input.status === 'arrived' && !row.arrived_at) patch.arrived_at = new Date();
    if (['planned', 'confirmed'].includes(input.status)) patch.arrived_at = null;
    const slot = { practitionerId: row.practitioner_id, roomId: row.room_id, startsAt: row.starts_at, endsAt: row.ends_at, except: id };
    await guardDoubleBooking(trx, actor, slot, () => repo.updateAppointment(trx, id, patch));
    await audit(trx, { action: 'appointment.status', objectType: 'patient', objectId: row.patient_id, details: { appointmentId: id, from, to: input.status } });
    return appointmentView(services, trx, (await repo.findAppointment(trx, id))!);
  });
}

export async function getAppointment(services: Services, id: string): Promise<AppointmentView> {
  const actor = authorize('appointments.read');
  return withScope(services.db, readScope(actor), async (trx) => {
    const row = await repo.findAppointment(trx, id);
    if (!row || !row.patient_data) throw notFound('Appointment');
    await audit(trx, { action: 'appointment.read', objectType: 'patient', objectId: row.patient_id, details: { appointmentId: id } });
    return appointmentView(services, trx, row);
  });
}

/** A day or a week (local days of the organization), of one practitioner, one room, or everyone. */
export async function listRange(services: Services, q: RangeQuery) {
  const actor = authorize('appointments.read');
  return withScope(services.db, readScope(actor), async (trx) => {
    const timeZone = await repo.organizationTimeZone(trx, actor.organizationId);
    const days = dayFrames(q.from, q.days, timeZone);
    const rows = await repo.listInRange(trx, { organizationId: actor.organizationId, from: days[0].startsAt, to: days[days.length - 1].endsAt, practitionerId: q.practitionerId, roomId: q.roomId });
    const appointments = await views(services, trx, rows);
    await audit(trx, { action: 'appointment.list', objectType: 'appointment', details: { from: q.from, days: q.days, ids: [...new Set(appointments.map((a) => a.patientId))] } });
    return { timeZone, days, appointments };
  });
}

/** Today's list (Wartezimmer): every appointment of the local day, cancelled ones included. */
export async function today(services: Services, now = new Date()) {
  const actor = authorize('appointments.read');
  return withScope(services.db, readScope(actor), async (trx) => {
    const timeZone = await repo.organizationTimeZone(trx, actor.organizationId);
    const date = localDay(now, timeZone);
    const [day] = dayFrames(date, 1, timeZone);
    const rows = await repo.listInRange(trx, { organizationId: actor.organizationId, from: day.startsAt, to: day.endsAt, withCancelled: true });
    const appointments = await views(services, trx, rows);
    await audit(trx, { action: 'appointment.list', objectType: 'appointment', details: { today: date, ids: [...new Set(appointments.map((a) => a.patientId))] } });
    return { timeZone, date, appointments };
  });
}

export async function patientAppointments(services: Services, patientId: string) {
  const actor = authorize('appointments.read');
  return withScope(services.db, readScope(actor), async (trx) => {
    await requirePatient(trx, patientId);
    const timeZone = await repo.organizationTimeZone(trx, actor.organizationId);
    const appointments = await views(services, trx, await repo.listOfPatient(trx, patientId));
    await audit(trx, { action: 'patient.appointments.read', objectType: 'patient', objectId: patientId, details: { count: appointments.length } });
    return { timeZone, appointments };
  });
}
