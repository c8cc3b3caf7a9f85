// The one permission check every service function starts with. The router has already checked
// the route's permission; this is the domain layer's own wall (CLI and jobs call services too).
// An installation permission needs an installation role, an organization permission an organization role.
import { currentContext, type Actor } from './context.ts';
import { forbidden, unauthenticated } from './errors.ts';
import { permits, type Permission } from './permissions.ts';

export function authorize(permission: Permission): Actor {
  const actor = currentContext()?.actor;
  if (!actor) throw unauthenticated();
  if (!permits(actor, permission)) throw forbidden(`Your role does not allow ${permission}`);
  return actor;
}
