// Travel data of patients who travel in for treatment (issue 14, item 2): flights, hotel stays and
// transfers per patient, optionally tied to the treatment plan the trip serves. Identifying fields
// are encrypted with the patient's data key (one JSON box per row, bound to "<table>:<id>"); the
// times the arrivals board queries stay in clear. Every read and write is audited; a restricted
// record (Art. 18) refuses writes. The arrivals board lists inbound flights of today and the next
// days in the organization's time zone with what is arranged (hotel, transfer) and what is missing
// — names and travel only, never health data.
import { randomUUID } from 'node:crypto';
import { withScope, type Tx } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import { AppError, notFound, validation } from '../../core/errors.ts';
import type { Services } from '../../http/services.ts';
import { audit } from '../audit/audit.service.ts';
import { organizationTimeZone } from '../appointments/appointment.repository.ts';
import { localDay, nextDay, parseTime, startOfDay } from '../appointments/time-zone.ts';
import { loadPatient } from '../messaging/outbox.service.ts';
import { syncOrganizationRegister } from '../services-register/register.service.ts';
import { openJson, patientKey, sealJson } from '../patients/patient.crypto.ts';
import { requirePatient, requireWritable } from '../patients/patient.guard.ts';
import { readScope, scope } from '../patients/patient.service.ts';
import { clientFor, FlightStatusError } from './flight-status.client.ts';
import { normalizeFlightNumber, type FlightInput, type HotelInput, type SettingsInput, type TransferInput } from './travel.schema.ts';

export const TRAVEL_TABLES = ['travel_flights', 'travel_hotels', 'travel_transfers'] as const;
export type TravelTable = (typeof TRAVEL_TABLES)[number];
/** The AAD field of a travel row's encrypted data. */
export const travelField = (table: string, id: string) => `${table}:${id}`;
export const settingsKey = (organizationId: string) => ({ organizationId, scope: 'travel_settings', scopeId: organizationId });
const ACCESS_KEY_FIELD = 'aviationstack_access_key';

interface FlightData { airline: string; flightNumber: string; departureAirport: string; departureAt: string; arrivalAirport: string; scheduledArrivalAt: string; flightStatus: string | null }
interface HotelData { name: string; address: string }
interface TransferData { pickupPlace: string; destination: string | null; driverName: string; driverPhone: string }
interface FlightRow { id: string; organization_id: string; patient_id: string; plan_entry_id: string | null; direction: 'inbound' | 'outbound'; arrival_at: Date; delay_minutes: number | null; status_checked_at: Date | null; data: Buffer }
interface HotelRow { id: string; organization_id: string; patient_id: string; plan_entry_id: string | null; check_in: string; check_out: string; data: Buffer }
interface TransferRow { id: string; organization_id: string; patient_id: string; plan_entry_id: string | null; pickup_at: Date; data: Buffer }

const hotels = (trx: Tx) => trx('travel_hotels').select('id', 'organization_id', 'patient_id', 'plan_entry_id', 'data', trx.raw('check_in::text as check_in'), trx.raw('check_out::text as check_out'));

// ---- views ----
async function flightView(services: Services, trx: Tx, r: FlightRow) {
  const d = await openJson<FlightData>(services.keys, trx, patientKey(r.organization_id, r.patient_id), travelField('travel_flights', r.id), r.data);
  return {
    id: r.id, patientId: r.patient_id, planEntryId: r.plan_entry_id, direction: r.direction, airline: d.airline, flightNumber: d.flightNumber,
    departureAirport: d.departureAirport, departureAt: d.departureAt, arrivalAirport: d.arrivalAirport, scheduledArrivalAt: d.scheduledArrivalAt,
    arrivalAt: r.arrival_at.toISOString(), delayMinutes: r.delay_minutes, flightStatus: d.flightStatus, statusCheckedAt: r.status_checked_at ? r.status_checked_at.toISOString() : null,
  };
}
async function hotelView(services: Services, trx: Tx, r: HotelRow) {
  const d = await openJson<HotelData>(services.keys, trx, patientKey(r.organization_id, r.patient_id), travelField('travel_hotels', r.id), r.data);
  return { id: r.id, patientId: r.patient_id, planEntryId: r.plan_entry_id, name: d.name, address: d.address, checkIn: r.check_in, checkOut: r.check_out };
}
async function transferView(services: Services, trx: Tx, r: TransferRow) {
  const d = await openJson<TransferData>(services.keys, trx, patientKey(r.organization_id, r.patient_id), travelField('travel_transfers', r.id), r.data);
  return { id: r.id, patientId: r.patient_id, planEntryId: r.plan_entry_id, pickupAt: r.pickup_at.toISOString(), pickupPlace: d.pickupPlace, destination: d.destination, driverName: d.driverName, driverPhone: d.driverPhone };
}

// ---- checks ----
function instant(value: string, zone: string, field: string): Date {
  const p = parseTime(value, zone);
  if (!p.ok) throw validation(field, p.message, p.code === 'invalid_format' ? 'invalid_date' : p.code);
  const year = p.instant.getUTCFullYear();
  if (year < 2000 || year > 2100) throw validation(field, 'must lie between the years 2000 and 2100', 'invalid_date');
  return p.instant;
}

async function checkPlan(trx: Tx, patientId: string, planEntryId: string | null | undefined): Promise<string | null> {
  if (!planEntryId) return null;
  const entry = await trx('record_entries').where({ id: planEntryId }).first('patient_id', 'kind');
  if (!entry || entry.patient_id !== patientId || entry.kind !== 'plan') throw validation('body.planEntryId', 'is not a treatment plan of this patient', 'not_found');
  return planEntryId;
}

async function settingsRow(trx: Tx, organizationId: string) {
  return trx('travel_settings').where({ organization_id: organizationId }).first() as Promise<{ flight_status_enabled: boolean; base_url: string | null; access_key: Buffer | null; enabled_at: Date | null } | undefined>;
}

async function write<T>(services: Services, patientId: string, fn: (trx: Tx, ctx: { organizationId: string; userId: string; zone: string }) => Promise<T>): Promise<T> {
  const actor = authorize('travel.write');
  return withScope(services.db, scope(actor), async (trx) => {
    await requireWritable(trx, patientId);
    return fn(trx, { organizationId: actor.organizationId, userId: actor.userId, zone: await organizationTimeZone(trx, actor.organizationId) });
  });
}

async function existing<R>(trx: Tx, table: TravelTable, patientId: string, itemId: string): Promise<R> {
  const row = table === 'travel_hotels' ? await hotels(trx).where({ id: itemId }).forUpdate().first() : await trx(table).where({ id: itemId }).forUpdate().first();
  if (!row || row.patient_id !== patientId) throw notFound(table === 'travel_flights' ? 'Flight' : table === 'travel_hotels' ? 'Hotel stay' : 'Transfer');
  return row as R;
}

// ---- a patient's travel ----
export async function patientTravel(services: Services, patientId: string) {
  const actor = authorize('travel.read');
  return withScope(services.db, readScope(actor), async (trx) => {
    await requirePatient(trx, patientId);
    const f: FlightRow[] = await trx('travel_flights').where({ patient_id: patientId }).orderBy([{ column: 'arrival_at' }, { column: 'id' }]);
    const h: HotelRow[] = await hotels(trx).where({ patient_id: patientId }).orderBy([{ column: 'check_in' }, { column: 'id' }]);
    const x: TransferRow[] = await trx('travel_transfers').where({ patient_id: patientId }).orderBy([{ column: 'pickup_at' }, { column: 'id' }]);
    const out = {
      timeZone: await organizationTimeZone(trx, actor.organizationId),
      flightStatusEnabled: (await settingsRow(trx, actor.organizationId))?.flight_status_enabled ?? false,
      flights: await Promise.all(f.map((r) => flightView(services, trx, r))),
      hotels: await Promise.all(h.map((r) => hotelView(services, trx, r))),
      transfers: await Promise.all(x.map((r) => transferView(services, trx, r))),
    };
    await audit(trx, { action: 'patient.travel.read', objectType: 'patient', objectId: patientId, details: { flights: f.length, hotels: h.length, transfers: x.length } });
    return out;
  });
}

async function flightRow(services: Services, trx: Tx, ctx: { organizationId: string; zone: string }, patientId: string, id: string, input: FlightInput) {
  const departure = instant(input.departureAt, ctx.zone, 'body.departureAt');
  const arrival = instant(input.arrivalAt, ctx.zone, 'body.arrivalAt');
  if (arrival.getTime() <= departure.getTime()) throw validation('body.arrivalAt', 'must be after the departure', 'arrival_before_departure');
  if (arrival.getTime() - departure.getTime() > 36 * 3600_000) throw validation('body.arrivalAt', 'must be within 36 hours of the departure', 'too_large');
  if (input.departureAirport === input.arrivalAirport) throw validation('body.arrivalAirport', 'must differ from the departure airport', 'invalid_value');
  const data: FlightData = {
    airline: input.airline, flightNumber: normalizeFlightNumber(input.flightNumber)!, departureAirport: input.departureAirport, departureAt: departure.toISOString(),
    arrivalAirport: input.arrivalAirport, scheduledArrivalAt: arrival.toISOString(), flightStatus: null,
  };
  return {
    plan_entry_id: await checkPlan(trx, patientId, input.planEntryId), direction: input.direction, arrival_at: arrival, delay_minutes: null, status_checked_at: null,
    data: await sealJson(services.keys, trx, patientKey(ctx.organizationId, patientId), travelField('travel_flights', id), data),
  };
}

export async function addFlight(services: Services, patientId: string, input: FlightInput) {
  return write(services, patientId, async (trx, ctx) => {
    const id = randomUUID();
    await trx('travel_flights').insert({ id, organization_id: ctx.organizationId, patient_id: patientId, created_by: ctx.userId, updated_by: ctx.userId, ...(await flightRow(services, trx, ctx, patientId, id, input)) });
    await audit(trx, { action: 'patient.travel.flight.create', objectType: 'patient', objectId: patientId, details: { flightId: id, direction: input.direction } });
    return flightView(services, trx, (await trx('travel_flights').where({ id }).first())!);
  });
}

export async function updateFlight(services: Services, patientId: string, flightId: string, input: FlightInput) {
  return write(services, patientId, async (trx, ctx) => {
    await existing<FlightRow>(trx, 'travel_flights', patientId, flightId);
    await trx('travel_flights').where({ id: flightId }).update({ ...(await flightRow(services, trx, ctx, patientId, flightId, input)), updated_by: ctx.userId, updated_at: trx.fn.now() });
    await audit(trx, { action: 'patient.travel.flight.update', objectType: 'patient', objectId: patientId, details: { flightId } });
    return flightView(services, trx, (await trx('travel_flights').where({ id: flightId }).first())!);
  });
}

async function hotelRow(services: Services, trx: Tx, ctx: { organizationId: string }, patientId: string, id: string, input: HotelInput) {
  if (input.checkOut <= input.checkIn) throw validation('body.checkOut', 'must be after the check-in day', 'checkout_before_checkin');
  if (input.checkIn < '2000-01-01' || input.checkOut > '2100-12-31') throw validation('body.checkIn', 'must lie between the years 2000 and 2100', 'invalid_date');
  const overlap = await trx('travel_hotels').where({ patient_id: patientId }).whereNot({ id })
    .where('check_in', '<', input.checkOut).where('check_out', '>', input.checkIn).first('id');
  if (overlap) throw validation('body.checkIn', 'overlaps another hotel stay of this patient', 'overlapping_stay');
  return {
    plan_entry_id: await checkPlan(trx, patientId, input.planEntryId), check_in: input.checkIn, check_out: input.checkOut,
    data: await sealJson(services.keys, trx, patientKey(ctx.organizationId, patientId), travelField('travel_hotels', id), { name: input.name, address: input.address } satisfies HotelData),
  };
}

export async function addHotel(services: Services, patientId: string, input: HotelInput) {
  // requireWritable locks the patient row: two concurrent stays cannot both pass the overlap check.
  return write(services, patientId, async (trx, ctx) => {
    const id = randomUUID();
    await trx('travel_hotels').insert({ id, organization_id: ctx.organizationId, patient_id: patientId, created_by: ctx.userId, updated_by: ctx.userId, ...(await hotelRow(services, trx, ctx, patientId, id, input)) });
    await audit(trx, { action: 'patient.travel.hotel.create', objectType: 'patient', objectId: patientId, details: { hotelId: id } });
    return hotelView(services, trx, (await hotels(trx).where({ id }).first())!);
  });
}

export async function updateHotel(services: Services, patientId: string, hotelId: string, input: HotelInput) {
  return write(services, patientId, async (trx, ctx) => {
    await existing<HotelRow>(trx, 'travel_hotels', patientId, hotelId);
    await trx('travel_hotels').where({ id: hotelId }).update({ ...(await hotelRow(services, trx, ctx, patientId, hotelId, input)), updated_by: ctx.userId, updated_at: trx.fn.now() });
    await audit(trx, { action: 'patient.travel.hotel.update', objectType: 'patient', objectId: patientId, details: { hotelId } });
    return hotelView(services, trx, (await hotels(trx).where({ id: hotelId }).first())!);
  });
}

async function transferRow(services: Services, trx: Tx, ctx: { organizationId: string; zone: string }, patientId: string, id: string, input: TransferInput) {
  const pickup = instant(input.pickupAt, ctx.zone, 'body.pickupAt');
  const data: TransferData = { pickupPlace: input.pickupPlace, destination: input.destination || null, driverName: input.driverName, driverPhone: input.driverPhone };
  return {
    plan_entry_id: await checkPlan(trx, patientId, input.planEntryId), pickup_at: pickup,
    data: await sealJson(services.keys, trx, patientKey(ctx.organizationId, patientId), travelField('travel_transfers', id), data),
  };
}

export async function addTransfer(services: Services, patientId: string, input: TransferInput) {
  return write(services, patientId, async (trx, ctx) => {
    const id = randomUUID();
    await trx('travel_transfers').insert({ id, organization_id: ctx.organizationId, patient_id: patientId, created_by: ctx.userId, updated_by: ctx.userId, ...(await transferRow(services, trx, ctx, patientId, id, input)) });
    await audit(trx, { action: 'patient.travel.transfer.create', objectType: 'patient', objectId: patientId, details: { transferId: id } });
    return transferView(services, trx, (await trx('travel_transfers').where({ id }).first())!);
  });
}

export async function updateTransfer(services: Services, patientId: string, transferId: string, input: TransferInput) {
  return write(services, patientId, async (trx, ctx) => {
    await existing<TransferRow>(trx, 'travel_transfers', patientId, transferId);
    await trx('travel_transfers').where({ id: transferId }).update({ ...(await transferRow(services, trx, ctx, patientId, transferId, input)), updated_by: ctx.userId, updated_at: trx.fn.now() });
    await audit(trx, { action: 'patient.travel.transfer.update', objectType: 'patient', objectId: patientId, details: { transferId } });
    return transferView(services, trx, (await trx('travel_transfers').where({ id: transferId }).first())!);
  });
}

export async function deleteItem(services: Services, table: TravelTable, patientId: string, itemId: string) {
  return write(services, patientId, async (trx) => {
    await existing(trx, table, patientId, itemId);
    await trx(table).where({ id: itemId }).delete();
    await audit(trx, { action: `patient.travel.${table.slice(7, -1)}.delete`, objectType: 'patient', objectId: patientId, details: { itemId } });
    return { deleted: true };
  });
}

// ---- the arrivals board ----
export async function arrivals(services: Services, days = 7, now = new Date()) {
  const actor = authorize('travel.read');
  return withScope(services.db, readScope(actor), async (trx) => {
    const zone = await organizationTimeZone(trx, actor.organizationId);
    const from = localDay(now, zone);
    const to = nextDay(from, days);
    const rows: FlightRow[] = await trx('travel_flights').where({ direction: 'inbound' })
      .where('arrival_at', '>=', startOfDay(from, zone)).where('arrival_at', '<', startOfDay(nextDay(to), zone))
      .orderBy([{ column: 'arrival_at' }, { column: 'id' }]).limit(500);
    const out = [];
    for (const r of rows) {
      const { row, master } = await loadPatient(services, trx, r.patient_id);
      if (!row || !master || row.anonymized_at) continue;
      const f = await flightView(services, trx, r);
      const day = localDay(r.arrival_at, zone);
      // A stay that covers the arrival night (check-in on or before the arrival day, check-out after it).
      const h: HotelRow | undefined = await hotels(trx).where({ patient_id: r.patient_id }).where('check_in', '<=', day).where('check_out', '>', day).orderBy('check_in').first();
      // A transfer picking the patient up from 3 hours before to 12 hours after the arrival.
      const x: TransferRow | undefined = await trx('travel_transfers').where({ patient_id: r.patient_id })
        .whereBetween('pickup_at', [new Date(r.arrival_at.getTime() - 3 * 3600_000), new Date(r.arrival_at.getTime() + 12 * 3600_000)]).orderBy('pickup_at').first();
      const hotel = h ? await hotelView(services, trx, h) : null;
      const transfer = x ? await transferView(services, trx, x) : null;
      out.push({
        flightId: r.id, patientId: r.patient_id, patient: { givenName: master.givenName, familyName: master.familyName },
        airline: f.airline, flightNumber: f.flightNumber, departureAirport: f.departureAirport, arrivalAirport: f.arrivalAirport,
        arrivalAt: f.arrivalAt, scheduledArrivalAt: f.scheduledArrivalAt, delayMinutes: f.delayMinutes,
        hotel: hotel ? { name: hotel.name, checkIn: hotel.checkIn, checkOut: hotel.checkOut } : null,
        transfer: transfer ? { pickupAt: transfer.pickupAt, pickupPlace: transfer.pickupPlace, driverName: transfer.driverName } : null,
        missing: [...(hotel ? [] : ['hotel' as const]), ...(transfer ? [] : ['transfer' as const])],
      });
    }
    await audit(trx, { action: 'travel.arrivals.list', objectType: 'travel', details: { from, to, ids: [...new Set(out.map((a) => a.patientId))] } });
    return { timeZone: zone, from, to, arrivals: out };
  });
}

// ---- flight-status look-up (optional, off by default) ----
export async function getSettings(services: Services) {
  const actor = authorize('travel.configure');
  return withScope(services.db, readScope(actor), async (trx) => settingsView(await settingsRow(trx, actor.organizationId)));
}

function settingsView(s: Awaited<ReturnType<typeof settingsRow>>) {
  return { flightStatusEnabled: s?.flight_status_enabled ?? false, baseUrl: s?.base_url ?? null, accessKeySet: !!s?.access_key, enabledAt: s?.enabled_at ? s.enabled_at.toISOString() : null };
}

export async function updateSettings(services: Services, input: SettingsInput) {
  const actor = authorize('travel.configure');
  return withScope(services.db, scope(actor), async (trx) => {
    const before = await settingsRow(trx, actor.organizationId);
    const baseUrl = input.baseUrl ?? before?.base_url ?? null;
    const accessKey = input.accessKey !== undefined ? await services.keys.encrypt(trx, settingsKey(actor.organizationId), ACCESS_KEY_FIELD, input.accessKey) : before?.access_key ?? null;
    if (input.flightStatusEnabled && !baseUrl) throw validation('body.baseUrl', 'the flight-status service needs its address', 'required');
    if (input.flightStatusEnabled && !accessKey) throw validation('body.accessKey', 'the flight-status service needs its access key', 'required');
    const wasOn = before?.flight_status_enabled ?? false;
    const row = {
      organization_id: actor.organizationId, flight_status_enabled: input.flightStatusEnabled, base_url: baseUrl, access_key: accessKey,
      enabled_at: input.flightStatusEnabled ? (wasOn ? before!.enabled_at : new Date()) : null, updated_by: actor.userId, updated_at: new Date(),
    };
    await trx('travel_settings').insert(row).onConflict('organization_id').merge();
    // Switching the look-up on or off: recorded in the register of external services and audited there
    // once, as aviationstack.external_service.enabled / .disabled (the provider reads travel_settings
    // through trx); any other save is audited here.
    if (wasOn === input.flightStatusEnabled) {
      await audit(trx, { action: 'travel.external_service.configured', objectType: 'external_service', objectId: 'aviationstack', details: { baseUrlChanged: input.baseUrl !== undefined, accessKeyChanged: input.accessKey !== undefined } });
    }
    await syncOrganizationRegister(services, trx, actor.organizationId);
    return settingsView(await settingsRow(trx, actor.organizationId));
  });
}

const STATUS_ERRORS: Record<string, number> = { not_found: 422, rejected: 502, bad_response: 502, unavailable: 503, circuit_open: 503, timeout: 504 };

/** Asks the flight-status service about one flight (flight number and date only) and stores the arrival time it reports. */
export async function checkFlightStatus(services: Services, patientId: string, flightId: string) {
  const actor = authorize('travel.write');
  // 1. read what the request needs (no network call inside a transaction)
  const job = await withScope(services.db, readScope(actor), async (trx) => {
    await requirePatient(trx, patientId);
    const s = await settingsRow(trx, actor.organizationId);
    if (!s?.flight_status_enabled || !s.base_url || !s.access_key) throw new AppError(409, 'flight_status_disabled', 'The flight-status look-up is switched off for this organization');
    const r = await existing<FlightRow>(trx, 'travel_flights', patientId, flightId);
    const f = await flightView(services, trx, r);
    const accessKey = (await services.keys.decrypt(trx, settingsKey(actor.organizationId), ACCESS_KEY_FIELD, s.access_key)).toString('utf8');
    return { baseUrl: s.base_url, accessKey, flightIata: f.flightNumber, date: localDay(new Date(f.departureAt), await organizationTimeZone(trx, actor.organizationId)) };
  });
  let status;
  try {
    status = await clientFor(actor.organizationId, job.baseUrl, job.accessKey).lookup(job.flightIata, job.date);
  } catch (err) {
    if (err instanceof FlightStatusError) throw new AppError(STATUS_ERRORS[err.code] ?? 502, `flight_status_${err.code}`, err.message);
    throw err;
  }
  // 2. store the answer
  return write(services, patientId, async (trx, ctx) => {
    const r = await existing<FlightRow>(trx, 'travel_flights', patientId, flightId);
    const ref = patientKey(ctx.organizationId, patientId);
    const d = await openJson<FlightData>(services.keys, trx, ref, travelField('travel_flights', flightId), r.data);
    const arrival = status.arrival ? new Date(status.arrival) : r.arrival_at;
    const delay = status.scheduledArrival && status.arrival ? status.delayMinutes : Math.round((arrival.getTime() - Date.parse(d.scheduledArrivalAt)) / 60_000);
    await trx('travel_flights').where({ id: flightId }).update({
      arrival_at: arrival, delay_minutes: delay === null ? null : Math.max(-1440, Math.min(10080, delay)), status_checked_at: trx.fn.now(), updated_at: trx.fn.now(),
      data: await sealJson(services.keys, trx, ref, travelField('travel_flights', flightId), { ...d, flightStatus: status.status }),
    });
    await audit(trx, { action: 'patient.travel.flight.status', objectType: 'patient', objectId: patientId, details: { flightId, status: status.status, delayMinutes: delay } });
    return flightView(services, trx, (await trx('travel_flights').where({ id: flightId }).first())!);
  });
}
