import { z } from 'zod';
import { isoDay, isoTime, named } from '../../http/response.ts';

import { STATUSES, type Status } from './appointment-status.ts';

export { STATUSES, TRANSITIONS, type Status } from './appointment-status.ts';
export const RESOURCE_KINDS = ['practitioner', 'room'] as const;
export const TYPE_KEYS = ['consultation', 'surgery', 'follow_up'] as const;

/** A time as the client sends it: local wall time of the organization (YYYY-MM-DDTHH:MM) or ISO with offset. */
const time = z.string().min(16).max(40);
const color = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour as #rrggbb').transform((s) => s.toLowerCase());
const minutes = z.number().int().min(5).max(720);
const id = z.uuid();

export const appointmentIdParams = z.strictObject({ appointmentId: id });
export const typeIdParams = z.strictObject({ typeId: id });
export const resourceIdParams = z.strictObject({ resourceId: id });

export const settingsBody = z.strictObject({ timeZone: z.string().min(1).max(64) });

export const typeBody = z.strictObject({
  nameDe: z.string().trim().min(1).max(100),
  nameEn: z.string().trim().min(1).max(100),
  color,
  defaultMinutes: minutes,
});
export const typePatchBody = z.strictObject({
  nameDe: z.string().trim().min(1).max(100).optional(),
  nameEn: z.string().trim().min(1).max(100).optional(),
  color: color.optional(),
  defaultMinutes: minutes.optional(),
  active: z.boolean().optional(),
});

export const resourceBody = z.strictObject({
  kind: z.enum(RESOURCE_KINDS),
  /** Shown in the calendar; for a practitioner linked to a user, the user's display name when omitted. */
  name: z.string().trim().min(1).max(200).optional(),
  /** A practitioner who is a user of the organization (for their own calendar feed). */
  userId: id.optional(),
});
export const resourcePatchBody = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  active: z.boolean().optional(),
});

export const createBody = z.strictObject({
  patientId: id,
  typeId: id,
  practitionerId: id.optional(),
  roomId: id.optional(),
  start: time,
  /** Either end or durationMinutes; neither: the type's default duration. */
  end: time.optional(),
  durationMinutes: z.number().int().min(1).max(1440).optional(),
  status: z.enum(['planned', 'confirmed']).optional(),
  notes: z.string().trim().max(4000).optional(),
});
export type CreateInput = z.infer<typeof createBody>;

export const patchBody = z.strictObject({
  /** The version the client saw (optimistic concurrency): 409 when the appointment changed meanwhile. */
  version: z.number().int().min(1),
  start: time.optional(),
  end: time.optional(),
  durationMinutes: z.number().int().min(1).max(1440).optional(),
  typeId: id.optional(),
  practitionerId: id.nullable().optional(),
  roomId: id.nullable().optional(),
  notes: z.string().trim().max(4000).nullable().optional(),
});
export type PatchInput = z.infer<typeof patchBody>;

export const statusBody = z.strictObject({
  version: z.number().int().min(1),
  status: z.enum(STATUSES),
  /** Required when cancelling; encrypted with the patient's key. */
  reason: z.string().trim().min(1).max(1000).optional(),
});
export type StatusInput = z.infer<typeof statusBody>;

export const rangeQuery = z.strictObject({
  /** First local day (organization's time zone). */
  from: isoDay,
  days: z.coerce.number().int().min(1).max(14).default(1),
  practitionerId: id.optional(),
  roomId: id.optional(),
});
export type RangeQuery = z.infer<typeof rangeQuery>;

// ---- answers (http/response.ts) ----
export const appointmentTypeView = named('AppointmentType', z.strictObject({
  id: z.uuid(),
  key: z.enum(TYPE_KEYS).nullable(),
  nameDe: z.string(),
  nameEn: z.string(),
  color: z.string(),
  defaultMinutes: z.number().int(),
  active: z.boolean(),
}));
export const appointmentResourceView = named('AppointmentResource', z.strictObject({
  id: z.uuid(),
  kind: z.enum(RESOURCE_KINDS),
  name: z.string(),
  userId: z.uuid().nullable(),
  active: z.boolean(),
  feedEnabledAt: isoTime.nullable(),
}));
export const appointmentView = named('Appointment', z.strictObject({
  id: z.uuid(),
  patientId: z.uuid(),
  patient: z.strictObject({ givenName: z.string(), familyName: z.string(), birthDate: isoDay }),
  typeId: z.uuid(),
  practitionerId: z.uuid().nullable(),
  roomId: z.uuid().nullable(),
  startsAt: isoTime,
  endsAt: isoTime,
  status: z.enum(STATUSES),
  cancelReason: z.string().nullable(),
  cancelledAt: isoTime.nullable(),
  arrivedAt: isoTime.nullable(),
  notes: z.string().nullable(),
  version: z.number().int(),
  createdBy: z.uuid().nullable(),
  updatedBy: z.uuid().nullable(),
  createdAt: isoTime,
  updatedAt: isoTime,
}));
export const dayFrameView = named('CalendarDay', z.strictObject({ date: isoDay, startsAt: isoTime, endsAt: isoTime, hours: z.number().int() }));

export const settingsView = z.strictObject({
  timeZone: z.string(),
  types: z.array(appointmentTypeView),
  resources: z.array(appointmentResourceView),
});
export const timeZoneView = z.strictObject({ timeZone: z.string() });
export const typeResult = z.strictObject({ type: appointmentTypeView });
export const resourceResult = z.strictObject({ resource: appointmentResourceView });
export const feedView = z.strictObject({ url: z.string(), enabledAt: isoTime });
export const appointmentResult = z.strictObject({ appointment: appointmentView });
export const rangeView = z.strictObject({ timeZone: z.string(), days: z.array(dayFrameView), appointments: z.array(appointmentView) });
export const todayView = z.strictObject({ timeZone: z.string(), date: isoDay, appointments: z.array(appointmentView) });
export const patientAppointmentsView = z.strictObject({ timeZone: z.string(), appointments: z.array(appointmentView) });
