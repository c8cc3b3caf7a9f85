import { defineRoute } from '../../http/route.ts';
import { created, noContent, ok } from '../../http/response.ts';
import { idParams } from '../patients/patient.schema.ts';
import {
  appointmentIdParams, appointmentResult, createBody, feedView, patchBody, patientAppointmentsView, rangeQuery, rangeView, resourceBody,
  resourceIdParams, resourcePatchBody, resourceResult, settingsBody, settingsView, statusBody, timeZoneView, todayView, typeBody,
  typeIdParams, typePatchBody, typeResult,
} from './appointment.schema.ts';
import { changeStatus, createAppointment, getAppointment, listRange, patientAppointments, today, updateAppointment } from './appointment.service.ts';
import { calendarSettings, createResource, createType, enableFeed, revokeFeed, setTimeZone, updateResource, updateType } from './calendar-setup.service.ts';

const tags = ['appointments'];

export const appointmentRoutes = [
  defineRoute({
    method: 'get', path: '/appointments/settings', access: 'appointments.read', tags,
    summary: 'The organization\'s time zone, appointment types, practitioners and rooms',
    response: ok(settingsView),
    handler: ({ services }) => calendarSettings(services),
  }),
  defineRoute({
    method: 'put', path: '/appointments/settings/time-zone', access: 'appointments.configure', tags, body: settingsBody,
    summary: 'Set the organization\'s time zone (IANA name, e.g. Europe/Berlin)',
    response: ok(timeZoneView),
    handler: ({ services, body }) => setTimeZone(services, body.timeZone),
  }),
  defineRoute({
    method: 'post', path: '/appointments/types', access: 'appointments.configure', tags, body: typeBody,
    summary: 'Create an appointment type (names in German and English, colour, default duration)',
    response: created(typeResult),
    handler: async ({ ctx, services, body }) => {
      ctx.status = 201;
      ctx.body = { type: await createType(services, body) };
    },
  }),
  defineRoute({
    method: 'patch', path: '/appointments/types/:typeId', access: 'appointments.configure', tags, params: typeIdParams, body: typePatchBody,
    summary: 'Change or deactivate an appointment type',
    response: ok(typeResult),
    handler: async ({ services, params, body }) => ({ type: await updateType(services, params.typeId, body) }),
  }),
  defineRoute({
    method: 'post', path: '/appointments/resources', access: 'appointments.configure', tags, body: resourceBody,
    summary: 'Create a practitioner (a user or a named person) or a room',
    response: created(resourceResult),
    handler: async ({ ctx, services, body }) => {
      ctx.status = 201;
      ctx.body = { resource: await createResource(services, body) };
    },
  }),
  defineRoute({
    method: 'patch', path: '/appointments/resources/:resourceId', access: 'appointments.configure', tags, params: resourceIdParams, body: resourcePatchBody,
    summary: 'Rename or deactivate a practitioner or room',
    response: ok(resourceResult),
    handler: async ({ services, params, body }) => ({ resource: await updateResource(services, params.resourceId, body) }),
  }),
  defineRoute({
    method: 'post', path: '/appointments/resources/:resourceId/feed', access: 'appointments.feed', tags, params: resourceIdParams,
    summary: 'Switch on (or replace) the practitioner\'s secret calendar feed URL; shown once',
    response: created(feedView),
    handler: async ({ ctx, services, params }) => {
      ctx.set('cache-control', 'no-store');
      ctx.status = 201;
      ctx.body = await enableFeed(services, params.resourceId);
    },
  }),
  defineRoute({
    method: 'delete', path: '/appointments/resources/:resourceId/feed', access: 'appointments.feed', tags, params: resourceIdParams,
    summary: 'Revoke the practitioner\'s calendar feed: its URL answers 404 from now on',
    response: noContent(),
    handler: async ({ services, params }) => revokeFeed(services, params.resourceId),
  }),
  defineRoute({
    method: 'get', path: '/appointments', access: 'appointments.read', tags, query: rangeQuery,
    summary: 'Appointments of local days (day or week view), of one practitioner or room or all, with each day\'s bounds',
    response: ok(rangeView),
    handler: ({ services, query }) => listRange(services, query),
  }),
  defineRoute({
    method: 'get', path: '/appointments/today', access: 'appointments.read', tags,
    summary: 'Today\'s appointments with arrivals (Wartezimmer), cancelled ones included',
    response: ok(todayView),
    handler: ({ services }) => today(services),
  }),
  defineRoute({
    method: 'post', path: '/appointments', access: 'appointments.write', tags, body: createBody,
    summary: 'Book an appointment; 409 double_booking names the appointment that holds the slot',
    response: created(appointmentResult),
    handler: async ({ ctx, services, body }) => {
      ctx.status = 201;
      ctx.body = { appointment: await createAppointment(services, body) };
    },
  }),
  defineRoute({
    method: 'get', path: '/appointments/:appointmentId', access: 'appointments.read', tags, params: appointmentIdParams,
    summary: 'One appointment',
    response: ok(appointmentResult),
    handler: async ({ services, params }) => ({ appointment: await getAppointment(services, params.appointmentId) }),
  }),
  defineRoute({
    method: 'patch', path: '/appointments/:appointmentId', access: 'appointments.write', tags, params: appointmentIdParams, body: patchBody,
    summary: 'Move, resize, re-assign or annotate an appointment (with the version read: 409 stale otherwise)',
    response: ok(appointmentResult),
    handler: async ({ services, params, body }) => ({ appointment: await updateAppointment(services, params.appointmentId, body) }),
  }),
  defineRoute({
    method: 'post', path: '/appointments/:appointmentId/status', access: 'appointments.write', tags, params: appointmentIdParams, body: statusBody,
    summary: 'Confirm, record arrival, start or end treatment, mark no-show, or cancel with a reason',
    response: ok(appointmentResult),
    handler: async ({ services, params, body }) => ({ appointment: await changeStatus(services, params.appointmentId, body) }),
  }),
  defineRoute({
    method: 'get', path: '/patients/:id/appointments', access: 'appointments.read', tags, params: idParams,
    summary: 'A patient\'s appointments, newest first',
    response: ok(patientAppointmentsView),
    handler: ({ services, params }) => patientAppointments(services, params.id),
  }),
];
