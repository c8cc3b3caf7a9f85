import { z } from 'zod';
import { ROLES } from '../../core/permissions.ts';
import { isoTime, named } from '../../http/response.ts';
import { locale, role } from '../auth/session.schema.ts';

export const username = z
  .string()
  .regex(/^[a-z0-9._-]{3,64}$/i, '3–64 letters, digits, dot, dash or underscore')
  .transform((s) => s.toLowerCase());
export const roles = z.array(z.enum(ROLES)).min(1, 'at least one role').max(ROLES.length).transform((r) => [...new Set(r)].sort());
export const displayName = z.string().trim().min(1).max(200);

export const createUserBody = z.strictObject({
  username,
  displayName,
  email: z.email().max(320).optional(),
  roles,
  locale: z.enum(['de', 'en']).optional(),
});

/** An e-mail address, or null to remove it. */
export const userEmail = z.email().max(320);

export const updateUserBody = z
  .strictObject({ roles: roles.optional(), displayName: displayName.optional(), email: userEmail.nullable().optional(), active: z.boolean().optional() })
  .refine((b) => b.roles !== undefined || b.displayName !== undefined || b.email !== undefined || b.active !== undefined, { message: 'give roles, displayName, email or active', path: ['roles'] });

/** What a reset renews: everything, only the password, or only the authenticator (and recovery codes). */
export const ENROLLMENT_KINDS = ['full', 'password', 'totp'] as const;
export type EnrollmentKind = (typeof ENROLLMENT_KINDS)[number];
export const enrollmentKind = z.enum(ENROLLMENT_KINDS);
export const resetUserBody = z.strictObject({ kind: enrollmentKind.default('full') });

export const enrollmentBody = z.strictObject({ token: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be the token from the enrollment link') });

/**
 * password: the new password (kinds full and password); currentPassword: the password the person
 * keeps (kind totp); totpSecret: the new authenticator's secret (kinds full and totp); totpCode:
 * a code of the new authenticator, or of the one the person keeps (kind password).
 */
export const completeEnrollmentBody = enrollmentBody.extend({
  password: z.string().min(12).max(1024).optional(),
  currentPassword: z.string().min(1).max(1024).optional(),
  totpSecret: z.string().regex(/^[A-Z2-7]{32}$/, 'must be the 32-character base32 secret from the first step').optional(),
  totpCode: z.string().regex(/^\d{6}$/, 'must be six digits'),
});

export const userIdParams = z.strictObject({ id: z.uuid() });

export type CreateUserInput = z.infer<typeof createUserBody>;
export type UpdateUserInput = z.infer<typeof updateUserBody>;

// ---- answers (http/response.ts) ----

/** A user as the organization's user list shows it. */
export const userView = named('User', z.strictObject({
  id: z.uuid(),
  username: z.string().nullable(),
  displayName: z.string(),
  email: z.string().nullable(),
  roles: z.array(role),
  locale: locale.nullable(),
  active: z.boolean(),
  /** How the account signs in: the clinic's identity provider or a local password + TOTP. */
  signIn: z.enum(['oidc', 'local']),
  /** Set while the account is temporarily locked after failed sign-ins. */
  lockedUntil: isoTime.nullable(),
  lastLoginAt: isoTime.nullable(),
  createdAt: isoTime,
  /** Until when the account's one-time enrollment link works; null when none is pending. */
  enrollmentExpiresAt: isoTime.nullable(),
  /** What the pending link renews; null when none is pending. */
  enrollmentKind: enrollmentKind.nullable(),
}));

/** A one-time enrollment link (token in the fragment), shown once to whoever created or reset the account. */
export const enrollmentLinkView = named('EnrollmentLink', z.strictObject({ url: z.string(), expiresAt: isoTime }));
export const createdUserView = named('CreatedUser', z.strictObject({ user: userView, enrollment: enrollmentLinkView }));
export const usersView = z.strictObject({ users: z.array(userView) });
export const userChangedView = z.strictObject({ user: userView });

/** Who an enrollment link is for, and a fresh authenticator secret to enroll. */
export const enrollmentStartView = named('EnrollmentStart', z.strictObject({
  displayName: z.string(), loginName: z.string(), organizationName: z.string(), expiresAt: isoTime,
  /** What the link renews; the secret and its URI are null when the person keeps the authenticator. */
  kind: enrollmentKind,
  totpSecret: z.string().nullable(), otpauthUrl: z.string().nullable(),
}));
export const enrollmentDoneView = z.strictObject({
  user: z.strictObject({ id: z.uuid(), displayName: z.string(), loginName: z.string(), roles: z.array(role), organizationId: z.uuid(), locale: z.string() }),
  recoveryCodes: z.array(z.string()),
  csrfToken: z.string(),
});
