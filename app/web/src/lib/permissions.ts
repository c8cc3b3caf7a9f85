// What the signed-in user may do, for showing or hiding controls. The permission table is the
// API's own (app/api/src/core/permissions.ts, pure data), imported rather than copied so the two
// cannot drift: organization permissions come from the organization roles, installation
// permissions from the installation roles the session reports. The API still enforces every one.
import { permits, type Permission } from '../../../api/src/core/permissions.ts';
import type { SessionUser } from './api.ts';

export type { Permission };

export function allowed(user: Pick<SessionUser, 'roles' | 'installationRoles'> | null | undefined, permission: Permission): boolean {
  return user ? permits(user, permission) : false;
}
