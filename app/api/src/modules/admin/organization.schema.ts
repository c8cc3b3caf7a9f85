import { z } from 'zod';
import { displayName, enrollmentLinkView, username } from '../users/user.schema.ts';
import { isoTime } from '../../http/response.ts';

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

// ---- answers (http/response.ts) ----
export const organizationsView = z.strictObject({
  organizations: z.array(z.strictObject({ id: z.uuid(), name: z.string(), slug: z.string(), active: z.boolean(), createdAt: isoTime })),
});
export const createdOrganizationView = z.strictObject({
  organization: z.strictObject({ id: z.uuid(), name: z.string(), slug: z.string() }),
  admin: z.strictObject({ id: z.uuid(), username: z.string(), loginName: z.string(), enrollment: enrollmentLinkView }),
});
