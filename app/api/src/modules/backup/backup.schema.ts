// Input schemas of the backup routes.
import { z } from 'zod';

export const snapshotsQuery = z.strictObject({ target: z.string().max(64).optional() });

export const jobsQuery = z.strictObject({
  kind: z.enum(['backup', 'drill', 'verify', 'restore']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(20),
});

export const recoveryKitBody = z.strictObject({
  shares: z.strictObject({ threshold: z.number().int().min(2).max(255), count: z.number().int().min(2).max(255) })
    .refine((s) => s.count >= s.threshold, { message: 'count must be at least threshold', path: ['count'] })
    .optional(),
  replace: z.boolean().default(false),
});
