import { z } from 'zod';
import { ROLES } from '../../core/permissions.ts';

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

export const updateUserBody = z
  .strictObject({ roles: roles.optional(), displayName: displayName.optional(), active: z.boolean().optional() })
  .refine((b) => b.roles !== undefined || b.displayName !== undefined || b.active !== undefined, { message: 'give roles, displayName or active', path: ['roles'] });

export const enrollmentBody = z.strictObject({ token: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be the token from the enrollment link') });

export const completeEnrollmentBody = enrollmentBody.extend({
  password: z.string().min(12).max(1024),
  totpSecret: z.string().regex(/^[A-Z2-7]{32}$/, 'must be the 32-character base32 secret from the first step'),
  totpCode: z.string().regex(/^\d{6}$/, 'must be six digits'),
});

export const userIdParams = z.strictObject({ id: z.uuid() });

export type CreateUserInput = z.infer<typeof createUserBody>;
export type UpdateUserInput = z.infer<typeof updateUserBody>;
