import { z } from 'zod';

export const setupBody = z.strictObject({
  organizationName: z.string().trim().min(1).max(200),
  organizationSlug: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lowercase letters, digits and dashes, 2–63 characters'),
  adminUsername: z.string().regex(/^[a-z0-9._-]{3,64}$/i, '3–64 letters, digits, dot, dash or underscore'),
  adminDisplayName: z.string().trim().min(1).max(200),
  adminEmail: z.email().max(320).optional(),
  adminPassword: z.string().min(12).max(1024),
  passphrase: z.string().min(12).max(1024),
  totpSecret: z.string().regex(/^[A-Z2-7]{32}$/, 'must be the 32-character base32 secret from GET /setup'),
  totpCode: z.string().regex(/^\d{6}$/, 'six digits'),
  locale: z.enum(['de', 'en']).optional(),
});
