// Routes of the patient-record modules (patients, records, consent, documents, gdpr, retention).
import type { AnyRoute } from './route.ts';
import { patientRoutes as patients } from '../modules/patients/patient.routes.ts';
import { recordRoutes } from '../modules/records/record.routes.ts';
import { consentRoutes } from '../modules/consent/consent.routes.ts';
import { documentRoutes } from '../modules/documents/document.routes.ts';
import { gdprRoutes } from '../modules/gdpr/gdpr.routes.ts';
import { retentionRoutes } from '../modules/retention/retention.routes.ts';
import { timelineRoutes } from '../modules/timeline/timeline.routes.ts';
import { icdRoutes } from '../modules/icd/icd.routes.ts';

export const patientRoutes: AnyRoute[] = [...patients, ...recordRoutes, ...consentRoutes, ...documentRoutes, ...gdprRoutes, ...retentionRoutes, ...timelineRoutes, ...icdRoutes];
