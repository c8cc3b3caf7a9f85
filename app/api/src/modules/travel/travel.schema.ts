// Request and answer schemas of the travel routes (flights, hotel stays, transfers, arrivals board,
// flight-status settings). Times of flights and transfers are instants with offset or local wall
// times (YYYY-MM-DDTHH:MM) in the organization's time zone; hotel days are calendar days.
import { z } from 'zod';
import { isoDay, isoTime, named } from '../../http/response.ts';
import { isoDate } from '../patients/patient.schema.ts';

const id = z.uuid();
export const DIRECTIONS = ['inbound', 'outbound'] as const;
export const MISSING = ['hotel', 'transfer'] as const;

/** IATA flight designator: airline code (2 letters/digits, not two digits, or 3 letters for ICAO-style), optional space, 1–4 digits, optional suffix. */
export const FLIGHT_NUMBER = /^(?:([A-Z][A-Z0-9]|[0-9][A-Z])|([A-Z]{3})) ?([0-9]{1,4})([A-Z]?)$/;
/** "lh 1234" → "LH1234" (the form the flight-status service expects); undefined when not a flight number. */
export function normalizeFlightNumber(value: string): string | undefined {
  const m = FLIGHT_NUMBER.exec(value.trim().toUpperCase());
  return m ? `${m[1] ?? m[2]}${m[3]}${m[4]}` : undefined;
}
const flightNumber = z.string().trim().max(10).refine((s) => normalizeFlightNumber(s) !== undefined, {
  message: 'must be an IATA flight number such as "LH 1234" or "LH1234"', params: { code: 'invalid_flight_number' },
});
const airport = z.string().trim().toUpperCase().regex(/^[A-Z]{3}$/, { message: 'must be a three-letter IATA airport code such as "FRA"' });
/** An instant with offset, or a local wall time of the organization (checked against the calendar in the service). */
const time = z.string().trim().min(16).max(40);
const text = (max: number) => z.string().trim().min(1).max(max);
const optionalText = (max: number) => z.string().trim().max(max).optional();

export const planRef = { planEntryId: id.nullable().optional() };

export const flightBody = z.strictObject({
  direction: z.enum(DIRECTIONS),
  airline: text(100),
  flightNumber,
  departureAirport: airport,
  departureAt: time,
  arrivalAirport: airport,
  arrivalAt: time,
  ...planRef,
});
export type FlightInput = z.infer<typeof flightBody>;

export const hotelBody = z.strictObject({
  name: text(200),
  address: text(500),
  checkIn: isoDate,
  checkOut: isoDate,
  ...planRef,
});
export type HotelInput = z.infer<typeof hotelBody>;

export const transferBody = z.strictObject({
  pickupAt: time,
  pickupPlace: text(300),
  destination: optionalText(300),
  driverName: text(200),
  driverPhone: z.string().trim().min(3).max(40).regex(/^\+?[0-9 ()\/-]{3,40}$/, { message: 'must be a phone number' }),
  ...planRef,
});
export type TransferInput = z.infer<typeof transferBody>;

export const itemParams = z.strictObject({ id: z.uuid('must be a patient id (UUID)'), itemId: z.uuid('must be an id (UUID)') });
export const arrivalsQuery = z.strictObject({
  /** Days after today to include (default 7: today and the next 7 days). */
  days: z.coerce.number().int().min(0).max(31).optional(),
});
export const settingsBody = z.strictObject({
  flightStatusEnabled: z.boolean(),
  /** The AviationStack-compatible API, e.g. https://api.aviationstack.com/v1 */
  baseUrl: z.string().trim().max(500).refine((s) => { try { const u = new URL(s); return (u.protocol === 'https:' || u.protocol === 'http:') && !u.username && !u.password && !u.search && !u.hash; } catch { return false; } }, { message: 'must be an http(s) URL without credentials or query', params: { code: 'invalid_url' } }).optional(),
  /** Write-only: never returned. */
  accessKey: z.string().trim().min(8).max(200).regex(/^[A-Za-z0-9_\-.]+$/, { message: 'must be the access key (letters, digits, - _ .)' }).optional(),
});
export type SettingsInput = z.infer<typeof settingsBody>;

// ---- answers ----
export const flightView = named('TravelFlight', z.strictObject({
  id: z.uuid(), patientId: z.uuid(), planEntryId: z.uuid().nullable(), direction: z.enum(DIRECTIONS),
  airline: z.string(), flightNumber: z.string(), departureAirport: z.string(), departureAt: isoTime,
  arrivalAirport: z.string(), scheduledArrivalAt: isoTime, arrivalAt: isoTime,
  delayMinutes: z.number().int().nullable(), flightStatus: z.string().nullable(), statusCheckedAt: isoTime.nullable(),
}));
export const hotelView = named('TravelHotel', z.strictObject({
  id: z.uuid(), patientId: z.uuid(), planEntryId: z.uuid().nullable(), name: z.string(), address: z.string(), checkIn: isoDay, checkOut: isoDay,
}));
export const transferView = named('TravelTransfer', z.strictObject({
  id: z.uuid(), patientId: z.uuid(), planEntryId: z.uuid().nullable(), pickupAt: isoTime, pickupPlace: z.string(), destination: z.string().nullable(),
  driverName: z.string(), driverPhone: z.string(),
}));
export const patientTravelResult = z.strictObject({
  timeZone: z.string(), flightStatusEnabled: z.boolean(),
  flights: z.array(flightView), hotels: z.array(hotelView), transfers: z.array(transferView),
});
export const flightResult = z.strictObject({ flight: flightView });
export const hotelResult = z.strictObject({ hotel: hotelView });
export const transferResult = z.strictObject({ transfer: transferView });
export const deletedResult = z.strictObject({ deleted: z.boolean() });

export const arrivalView = named('TravelArrival', z.strictObject({
  flightId: z.uuid(), patientId: z.uuid(),
  patient: z.strictObject({ givenName: z.string(), familyName: z.string() }),
  airline: z.string(), flightNumber: z.string(), departureAirport: z.string(), arrivalAirport: z.string(),
  arrivalAt: isoTime, scheduledArrivalAt: isoTime, delayMinutes: z.number().int().nullable(),
  hotel: z.strictObject({ name: z.string(), checkIn: isoDay, checkOut: isoDay }).nullable(),
  transfer: z.strictObject({ pickupAt: isoTime, pickupPlace: z.string(), driverName: z.string() }).nullable(),
  missing: z.array(z.enum(MISSING)),
}));
export const arrivalsResult = z.strictObject({ timeZone: z.string(), from: isoDay, to: isoDay, arrivals: z.array(arrivalView) });

export const settingsResult = z.strictObject({
  flightStatusEnabled: z.boolean(), baseUrl: z.string().nullable(), accessKeySet: z.boolean(), enabledAt: isoTime.nullable(),
});
