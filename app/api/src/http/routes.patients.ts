// Routes of the patient-record modules (patients, records, consent, documents, gdpr).
import type { AnyRoute } from './route.ts';

export const patientRoutes: AnyRoute[] = [];
