// Routes of the auth and admin modules (local login, OIDC, users, organizations).
import type { AnyRoute } from './route.ts';
import { localLoginRoutes } from '../modules/auth/local-login.routes.ts';
import { oidcRoutes } from '../modules/auth/oidc/oidc.routes.ts';
import { userRoutes } from '../modules/users/user.routes.ts';
import { organizationRoutes } from '../modules/admin/organization.routes.ts';
import { enrollmentRoutes } from '../modules/users/enrollment.routes.ts';

export const extraRoutes: AnyRoute[] = [...localLoginRoutes, ...oidcRoutes, ...userRoutes, ...organizationRoutes, ...enrollmentRoutes];
