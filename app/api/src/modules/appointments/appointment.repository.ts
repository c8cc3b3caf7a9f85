// The only place that queries the appointment tables (always inside withScope, so RLS applies).
import type { Tx } from '../../db/connection.ts';
import { currentContext, DEFAULT_TIME_ZONE } from '../../core/context.ts';

export interface TypeRow {
  id: string;
  organization_id: string;
  key: 'consultation' | 'surgery' | 'follow_up' | null;
  name_de: string;
  name_en: string;
  color: string;
  default_minutes: number;
  /** Minutes before the start at which reminders go out. */
  reminder_offsets: number[];
  active: boolean;
}

export interface ResourceRow {
  id: string;
  organization_id: string;
  kind: 'practitioner' | 'room';
  name: string;
  user_id: string | null;
  active: boolean;
  feed_token_hash: Buffer | null;
  feed_enabled_at: Date | null;
}

export interface AppointmentRow {
  id: string;
  organization_id: string;
  patient_id: string;
  type_id: string;
  practitioner_id: string | null;
  room_id: string | null;
  starts_at: Date;
  ends_at: Date;
  status: string;
  cancel_reason: Buffer | null;
  cancelled_at: Date | null;
  arrived_at: Date | null;
  notes: Buffer | null;
  version: number;
  created_by: string | null;
  updated_by: string | null;
  created_at: Date;
  updated_at: Date;
}

/** An appointment with its patient's master data and key row (one statement for a whole calendar). */
export type AppointmentWithPatient = AppointmentRow & { patient_data: Buffer | null; key_id: string | null; wrapped_key: Buffer | null };

const APPOINTMENT_COLUMNS = `a.id, a.organization_id, a.patient_id, a.type_id, a.practitioner_id, a.room_id, a.starts_at, a.ends_at, a.status,
  a.cancel_reason, a.cancelled_at, a.arrived_at, a.notes, a.version, a.created_by, a.updated_by, a.created_at, a.updated_at`;
const WITH_PATIENT = `select ${APPOINTMENT_COLUMNS}, p.data as patient_data, k.id as key_id, k.wrapped_key
  from appointments a join patients p on p.id = a.patient_id
  left join data_keys k on k.organization_id = p.organization_id and k.scope = 'patient' and k.scope_id = p.id`;

/**
 * The organization's time zone. A request of that organization already carries it (read with the
 * session in the one statement that authenticates the request): no query then.
 */
export async function organizationTimeZone(trx: Tx, organizationId: string): Promise<string> {
  const actor = currentContext()?.actor;
  if (actor?.timeZone && actor.organizationId === organizationId) return actor.timeZone;
  const row = await trx('organizations').where({ id: organizationId }).first('time_zone');
  return row?.time_zone ?? DEFAULT_TIME_ZONE;
}

export async function setOrganizationTimeZone(trx: Tx, organizationId: string, timeZone: string): Promise<void> {
  await trx('organizations').where({ id: organizationId }).update({ time_zone: timeZone });
  // the rest of this request counts in the new zone, like every request after it
  const actor = currentContext()?.actor;
  if (actor && actor.organizationId === organizationId) actor.timeZone = timeZone;
}

export async function listTypes(trx: Tx): Promise<TypeRow[]> {
  return trx('appointment_types').orderByRaw("key is null, array_position(array['consultation','surgery','follow_up'], key), name_de, id");
}

export async function findType(trx: Tx, id: string): Promise<TypeRow | undefined> {
  return trx('appointment_types').where({ id }).first();
}

export async function insertType(trx: Tx, row: Omit<TypeRow, 'id' | 'active' | 'key' | 'reminder_offsets'> & { reminder_offsets?: number[] }): Promise<TypeRow> {
  const [created] = await trx('appointment_types').insert(row).returning('*');
  return created;
}

export async function updateType(trx: Tx, id: string, patch: Partial<TypeRow>): Promise<TypeRow | undefined> {
  const [row] = await trx('appointment_types').where({ id }).update({ ...patch, updated_at: trx.fn.now() }).returning('*');
  return row;
}

export async function listResources(trx: Tx): Promise<ResourceRow[]> {
  return trx('appointment_resources').orderBy([{ column: 'kind' }, { column: 'name' }, { column: 'id' }]);
}

export async function findResource(trx: Tx, id: string, forUpdate = false): Promise<ResourceRow | undefined> {
  const q = trx('appointment_resources').where({ id }).first();
  return forUpdate ? q.forUpdate() : q;
}

export async function insertResource(trx: Tx, row: Pick<ResourceRow, 'organization_id' | 'kind' | 'name' | 'user_id'>): Promise<ResourceRow> {
  const [created] = await trx('appointment_resources').insert(row).returning('*');
  return created;
}

export async function updateResource(trx: Tx, id: string, patch: Partial<ResourceRow>): Promise<ResourceRow | undefined> {
  const [row] = await trx('appointment_resources').where({ id }).update({ ...patch, updated_at: trx.fn.now() }).returning('*');
  return row;
}

export async function findUserName(trx: Tx, userId: string): Promise<string | undefined> {
  return (await trx('users').where({ id: userId }).first('display_name'))?.display_name;
}

export async function insertAppointment(trx: Tx, row: Partial<AppointmentRow>): Promise<void> {
  await trx('appointments').insert(row);
}

export async function updateAppointment(trx: Tx, id: string, patch: Partial<AppointmentRow>): Promise<void> {
  await trx('appointments').where({ id }).update({ ...patch, version: trx.raw('version + 1'), updated_at: trx.fn.now() });
}

export async function findAppointment(trx: Tx, id: string, forUpdate = false): Promise<AppointmentWithPatient | undefined> {
  const { rows } = await trx.raw(`${WITH_PATIENT} where a.id = ?${forUpdate ? ' for update of a' : ''}`, [id]);
  return rows[0];
}

/**
 * "Overlaps [from, to)" written with plain comparisons on starts_at/ends_at. Under row-level
 * security PostgreSQL only uses leakproof operators as index conditions; the range operator &&
 * is not leakproof, so `tstzrange(…) && …` would scan every appointment of the organization. As
 * an appointment lasts at most 24 hours (check constraint), starts_at in [from − 24 h, to) bounds
 * the index range scan; ends_at > from finishes the test.
 */
const OVERLAPS = (alias: string) => [`${alias}.starts_at >= ?`, `${alias}.starts_at < ?`, `${alias}.ends_at > ?`];
const overlapArgs = (from: Date, to: Date) => [new Date(from.getTime() - 24 * 3_600_000), to, from];

/**
 * Appointments overlapping [from, to), optionally of one practitioner or room; cancelled ones only
 * when asked. Uses the b-tree indexes on (practitioner_id | room_id | organization_id, starts_at).
 */
export async function listInRange(trx: Tx, o: { organizationId: string; from: Date; to: Date; practitionerId?: string; roomId?: string; withCancelled?: boolean }): Promise<AppointmentWithPatient[]> {
  const where = ['a.organization_id = ?', ...OVERLAPS('a')];
  const args: unknown[] = [o.organizationId, ...overlapArgs(o.from, o.to)];
  if (o.practitionerId) (where.push('a.practitioner_id = ?'), args.push(o.practitionerId));
  if (o.roomId) (where.push('a.room_id = ?'), args.push(o.roomId));
  if (!o.withCancelled) where.push("a.status <> 'cancelled'");
  const { rows } = await trx.raw(`${WITH_PATIENT} where ${where.join(' and ')} order by a.starts_at, a.id`, args as never);
  return rows;
}

export async function listOfPatient(trx: Tx, patientId: string): Promise<AppointmentWithPatient[]> {
  const { rows } = await trx.raw(`${WITH_PATIENT} where a.patient_id = ? order by a.starts_at desc, a.id`, [patientId]);
  return rows;
}

/** The active appointments of a resource that overlap a period (other than one appointment). */
export async function overlapping(trx: Tx, column: 'practitioner_id' | 'room_id', resourceId: string, from: Date, to: Date, except?: string) {
  const q = trx('appointments')
    .where(column, resourceId)
    .whereNotIn('status', ['cancelled', 'no_show'])
    .whereRaw(OVERLAPS('appointments').join(' and '), overlapArgs(from, to) as never)
    .orderBy('starts_at')
    .select('id', 'patient_id', 'starts_at', 'ends_at');
  return except ? q.whereNot('id', except) : q;
}

/** Feed rows: times only, no patient, no type (the feed must not reveal health data). */
export async function feedTimes(trx: Tx, resourceId: string, from: Date, to: Date): Promise<{ id: string; starts_at: Date; ends_at: Date; updated_at: Date; status: string }[]> {
  return trx('appointments')
    .where('practitioner_id', resourceId)
    .whereNotIn('status', ['cancelled', 'no_show'])
    .whereRaw(OVERLAPS('appointments').join(' and '), overlapArgs(from, to) as never)
    .orderBy('starts_at')
    .select('id', 'starts_at', 'ends_at', 'updated_at', 'status');
}

export async function resolveFeed(trx: Tx, hash: Buffer): Promise<{ organization_id: string; resource_id: string } | undefined> {
  const { rows } = await trx.raw('select * from appointment_feed_resolve(?)', [hash]);
  return rows[0];
}
