// Routes of the auth and admin modules (local login, OIDC, users, organizations).
import type { AnyRoute } from './route.ts';

export const extraRoutes: AnyRoute[] = [];
