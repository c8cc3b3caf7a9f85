// Every API route of the product, in one list: mounted by the app, documented in OpenAPI,
// walked by the role-matrix test.
import type { AnyRoute } from './route.ts';
import { setupRoutes } from '../modules/setup/setup.routes.ts';
import { sealRoutes } from '../modules/keystore/seal.routes.ts';
import { auditRoutes } from '../modules/audit/audit.routes.ts';
import { sessionRoutes } from '../modules/auth/session.routes.ts';
import { extraRoutes } from './routes.extra.ts';
import { patientRoutes } from './routes.patients.ts';
import { homeRoutes } from '../modules/home/home.routes.ts';
import { backupRoutes } from './routes.backup.ts';
import { messagingRoutes } from '../modules/messaging/messaging.routes.ts';
import { inboxRoutes } from '../modules/messaging/inbox.routes.ts';
import { installationRoutes } from '../modules/installation/installation.routes.ts';
import { appointmentRoutes } from '../modules/appointments/appointment.routes.ts';
import { aftercareRoutes } from '../modules/aftercare/aftercare.routes.ts';
import { travelRoutes } from '../modules/travel/travel.routes.ts';
import { financeRoutes } from '../modules/finance/finance.routes.ts';
import { servicesRegisterRoutes } from '../modules/services-register/register.routes.ts';
import { aiRoutes } from '../modules/ai/ai.routes.ts';
import { reportRoutes } from '../modules/reports/report.routes.ts';

export const ROUTES: AnyRoute[] = [...setupRoutes, ...sessionRoutes, ...sealRoutes, ...auditRoutes, ...extraRoutes, ...patientRoutes, ...backupRoutes, ...installationRoutes, ...appointmentRoutes, ...messagingRoutes, ...aftercareRoutes, ...inboxRoutes, ...travelRoutes, ...financeRoutes, ...servicesRegisterRoutes, ...aiRoutes, ...reportRoutes, ...homeRoutes];
