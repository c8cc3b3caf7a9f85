import { defineRoute } from '../../http/route.ts';
import { created, ok } from '../../http/response.ts';
import { idParams } from '../patients/patient.schema.ts';
import {
  arrivalsQuery, arrivalsResult, deletedResult, flightBody, flightResult, hotelBody, hotelResult, itemParams, patientTravelResult,
  settingsBody, settingsResult, transferBody, transferResult,
} from './travel.schema.ts';
import {
  addFlight, addHotel, addTransfer, arrivals, checkFlightStatus, deleteItem, getSettings, patientTravel, updateFlight, updateHotel,
  updateSettings, updateTransfer, type TravelTable,
} from './travel.service.ts';

const tags = ['travel'];

const remove = (segment: string, table: TravelTable, what: string) => defineRoute({
  method: 'delete', path: `/patients/:id/travel/${segment}/:itemId`, access: 'travel.write', tags, params: itemParams,
  summary: `Delete a ${what} of the patient (audited)`,
  response: ok(deletedResult),
  handler: ({ services, params }) => deleteItem(services, table, params.id, params.itemId),
});

export const travelRoutes = [
  defineRoute({
    method: 'get', path: '/patients/:id/travel', access: 'travel.read', tags, params: idParams,
    summary: 'A patient\'s flights, hotel stays and transfers, decrypted (audited read)',
    response: ok(patientTravelResult),
    handler: ({ services, params }) => patientTravel(services, params.id),
  }),
  defineRoute({
    method: 'post', path: '/patients/:id/travel/flights', access: 'travel.write', tags, params: idParams, body: flightBody,
    summary: 'Record a flight (inbound or outbound); times with offset or local to the organization',
    response: created(flightResult),
    handler: async ({ ctx, services, params, body }) => { ctx.status = 201; ctx.body = { flight: await addFlight(services, params.id, body) }; },
  }),
  defineRoute({
    method: 'put', path: '/patients/:id/travel/flights/:itemId', access: 'travel.write', tags, params: itemParams, body: flightBody,
    summary: 'Replace a flight (a previous flight-status result is dropped)',
    response: ok(flightResult),
    handler: async ({ services, params, body }) => ({ flight: await updateFlight(services, params.id, params.itemId, body) }),
  }),
  remove('flights', 'travel_flights', 'flight'),
  defineRoute({
    method: 'post', path: '/patients/:id/travel/flights/:itemId/status', access: 'travel.write', tags, params: itemParams,
    summary: 'Look up the flight\'s status (only flight number and date are sent) and store the arrival time',
    response: ok(flightResult),
    handler: async ({ services, params }) => ({ flight: await checkFlightStatus(services, params.id, params.itemId) }),
  }),
  defineRoute({
    method: 'post', path: '/patients/:id/travel/hotels', access: 'travel.write', tags, params: idParams, body: hotelBody,
    summary: 'Record a hotel stay (stays of one patient must not overlap)',
    response: created(hotelResult),
    handler: async ({ ctx, services, params, body }) => { ctx.status = 201; ctx.body = { hotel: await addHotel(services, params.id, body) }; },
  }),
  defineRoute({
    method: 'put', path: '/patients/:id/travel/hotels/:itemId', access: 'travel.write', tags, params: itemParams, body: hotelBody,
    summary: 'Replace a hotel stay',
    response: ok(hotelResult),
    handler: async ({ services, params, body }) => ({ hotel: await updateHotel(services, params.id, params.itemId, body) }),
  }),
  remove('hotels', 'travel_hotels', 'hotel stay'),
  defineRoute({
    method: 'post', path: '/patients/:id/travel/transfers', access: 'travel.write', tags, params: idParams, body: transferBody,
    summary: 'Record a transfer (pickup time and place, driver)',
    response: created(transferResult),
    handler: async ({ ctx, services, params, body }) => { ctx.status = 201; ctx.body = { transfer: await addTransfer(services, params.id, body) }; },
  }),
  defineRoute({
    method: 'put', path: '/patients/:id/travel/transfers/:itemId', access: 'travel.write', tags, params: itemParams, body: transferBody,
    summary: 'Replace a transfer',
    response: ok(transferResult),
    handler: async ({ services, params, body }) => ({ transfer: await updateTransfer(services, params.id, params.itemId, body) }),
  }),
  remove('transfers', 'travel_transfers', 'transfer'),
  defineRoute({
    method: 'get', path: '/travel/arrivals', access: 'travel.read', tags, query: arrivalsQuery,
    summary: 'Arrivals board: inbound flights today and the next days with hotel and transfer arranged or missing (no health data)',
    response: ok(arrivalsResult),
    handler: ({ services, query }) => arrivals(services, query.days ?? 7),
  }),
  defineRoute({
    method: 'get', path: '/travel/settings', access: 'travel.configure', tags,
    summary: 'The flight-status look-up: on or off, its address, whether an access key is set (the key is never returned)',
    response: ok(settingsResult),
    handler: ({ services }) => getSettings(services),
  }),
  defineRoute({
    method: 'put', path: '/travel/settings', access: 'travel.configure', tags, body: settingsBody,
    summary: 'Switch the flight-status look-up on or off (audited), set its address and access key (encrypted)',
    response: ok(settingsResult),
    handler: ({ services, body }) => updateSettings(services, body),
  }),
];
