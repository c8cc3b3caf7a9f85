// What the signed-in user may do, for showing or hiding controls. The role → permission table is
// the API's own (app/api/src/core/permissions.ts, pure data), imported rather than copied so the
// two cannot drift; the API still enforces every permission itself.
import { can as roleCan, type Permission } from '../../../api/src/core/permissions.ts';
import type { Role } from './api.ts';

export type { Permission };

export function allowed(roles: readonly Role[] | undefined, permission: Permission): boolean {
  return roles ? roleCan(roles, permission) : false;
}
