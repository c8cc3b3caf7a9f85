// Answers of the installation routes (http/response.ts).
import { z } from 'zod';
import { isoTime, named } from '../../http/response.ts';

/** An installation operator with their organization. */
export const operatorView = named('InstallationOperator', z.strictObject({
  userId: z.uuid(),
  organizationId: z.uuid(),
  organizationName: z.string(),
  username: z.string().nullable(),
  displayName: z.string(),
  active: z.boolean(),
  grantedBy: z.uuid().nullable(),
  grantedAt: isoTime,
}));
export const operatorsView = z.strictObject({ operators: z.array(operatorView) });
export const grantedOperatorView = z.strictObject({ operator: operatorView });
