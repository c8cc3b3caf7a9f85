import { z } from 'zod';
import { displayName, username } from '../users/user.schema.ts';

export const createOrganizationBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  slug: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lowercase letters, digits and dashes, 2–63 characters'),
  admin: z.strictObject({
    username,
    displayName,
    email: z.email().max(320).optional(),
  }),
});

export type CreateOrganizationInput = z.infer<typeof createOrganizationBody>;
