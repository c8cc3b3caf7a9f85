// The register of external services ("Anlage 2"). Organization permission register.read (the
// organization's administrators: the register documents the controller's processors; it names no
// patient, so reading it is not audited).
import { defineRoute } from '../../http/route.ts';
import { ok } from '../../http/response.ts';
import { readRegister } from './register.service.ts';
import { registerView } from './register.schema.ts';

export const servicesRegisterRoutes = [
  defineRoute({
    method: 'get', path: '/services-register', access: 'register.read', tags: ['services-register'],
    summary: 'The live register of external services (sub-processors): hosting, backup targets, e-mail, WhatsApp, calendar feeds and those other modules register, with purpose, data categories, recipient, location, third-country transfer, safeguards, on/off and since when, and the history of changes',
    response: ok(registerView),
    handler: ({ services }) => readRegister(services),
  }),
];
