// Answers of the session, login and logout routes (http/response.ts).
import { z } from 'zod';
import { INSTALLATION_ROLES, ROLES } from '../../core/permissions.ts';
import { named } from '../../http/response.ts';

export const role = z.enum(ROLES);
export const installationRole = z.enum(INSTALLATION_ROLES);
export const locale = z.enum(['de', 'en']);

/** The signed-in user as the web app's frame shows it. */
export const sessionUserView = named('SessionUser', z.strictObject({
  id: z.uuid(),
  displayName: z.string(),
  username: z.string().nullable(),
  roles: z.array(role),
  /** Installation roles (operator): seal, backups, recovery kit, organizations, operators. */
  installationRoles: z.array(installationRole),
  locale: locale.nullable(),
  organizationId: z.uuid(),
  organizationName: z.string().nullable(),
  /** The organization's time zone (IANA name): "today", weeks and months are counted in it, not in the browser's. */
  timeZone: z.string(),
  /** How the user signs in: password and second factor live at the identity provider (oidc) or here (local). */
  signIn: z.enum(['oidc', 'local']),
}));

export const sessionView = named('SessionInfo', z.strictObject({ user: sessionUserView.nullable(), sealed: z.boolean() }));

export const logoutView = z.strictObject({ loggedOut: z.boolean(), endSessionUrl: z.string().nullable() });
export const logoutEverywhereView = z.strictObject({ loggedOut: z.boolean(), sessionsEnded: z.number().int() });
export const localeView = z.strictObject({ locale });

export const loginView = z.strictObject({
  user: z.strictObject({ id: z.uuid(), displayName: z.string(), roles: z.array(role), organizationId: z.uuid(), locale: z.string() }),
  csrfToken: z.string(),
});
export const passwordChangedView = z.strictObject({ changed: z.boolean(), otherSessionsEnded: z.number().int() });
export const oidcConfigView = named('OidcConfig', z.strictObject({ enabled: z.boolean(), displayName: z.string().nullable() }));
export const backchannelLogoutView = z.strictObject({ sessionsEnded: z.number().int() });
