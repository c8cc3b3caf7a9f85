import { defineRoute } from '../../http/route.ts';
import { createPatientBody, idParams, listQuery, searchBody, updatePatientBody } from './patient.schema.ts';
import { createPatient, getPatient, listPatients, patientHistory, rectifyPatient } from './patient.service.ts';
import { created, ok } from '../../http/response.ts';
import { getNumbering, numberingBody, numberingView, setNumbering } from './numbering.service.ts';
import { onePatientView, patientHistoryView, patientPageView } from './patient.schema.ts';

export const patientRoutes = [
  defineRoute({
    method: 'get', path: '/patient-numbering', access: 'patients.read', tags: ['patients'],
    summary: "The practice's automatic patient numbering (off unless switched on)",
    response: ok(numberingView),
    handler: ({ services }) => getNumbering(services),
  }),
  defineRoute({
    method: 'put', path: '/patient-numbering', access: 'patients.numbering', tags: ['patients'], body: numberingBody,
    summary: 'Switch automatic patient numbering on or off, with prefix, next number and digits',
    response: ok(numberingView),
    handler: ({ services, body }) => setNumbering(services, body),
  }),
  defineRoute({
    method: 'get', path: '/patients', access: 'patients.read', tags: ['patients'], query: listQuery,
    summary: 'List patients, paginated (no search terms: those go to POST /patients/search so no URL carries them)',
    response: ok(patientPageView),
    handler: ({ services, query }) => listPatients(services, query),
  }),
  defineRoute({
    method: 'post', path: '/patients/search', access: 'patients.read', tags: ['patients'], body: searchBody,
    summary: 'Search patients (name prefixes, birth date, phone, e-mail through blind indexes); terms in the body, never in the URL; paginated',
    response: ok(patientPageView),
    handler: ({ services, body }) => listPatients(services, body),
  }),
  defineRoute({
    method: 'post', path: '/patients', access: 'patients.write', tags: ['patients'], body: createPatientBody,
    summary: 'Create a patient; 409 possible_duplicate unless allowDuplicate is true',
    response: created(onePatientView),
    handler: async ({ ctx, services, body }) => {
      const patient = await createPatient(services, body);
      ctx.status = 201;
      ctx.body = { patient };
    },
  }),
  defineRoute({
    method: 'get', path: '/patients/:id', access: 'patients.read', tags: ['patients'], params: idParams,
    summary: 'Master data of one patient (audited read)',
    response: ok(onePatientView),
    handler: async ({ services, params }) => ({ patient: await getPatient(services, params.id) }),
  }),
  defineRoute({
    method: 'patch', path: '/patients/:id', access: 'patients.write', tags: ['patients'], params: idParams, body: updatePatientBody,
    summary: 'Rectify master data (Art. 16); the previous version is kept',
    response: ok(onePatientView),
    handler: async ({ services, params, body }) => ({ patient: await rectifyPatient(services, params.id, body) }),
  }),
  defineRoute({
    method: 'get', path: '/patients/:id/history', access: 'patients.read', tags: ['patients'], params: idParams,
    summary: 'Earlier versions of the master data with who changed them, when and why',
    response: ok(patientHistoryView),
    handler: ({ services, params }) => patientHistory(services, params.id),
  }),
];
