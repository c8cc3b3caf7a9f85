// Answers of the register route.
import { z } from 'zod';
import { isoTime, named } from '../../http/response.ts';

const scope = z.enum(['installation', 'organization']);

export const externalServiceView = named('ExternalService', z.strictObject({
  key: z.string(),
  name: z.string(),
  purposeCode: z.string(),
  dataCategoryCodes: z.array(z.string()),
  recipient: z.string(),
  location: z.string(),
  thirdCountry: z.enum(['none', 'indirect', 'yes']),
  safeguardCodes: z.array(z.string()),
  enabled: z.boolean(),
  since: isoTime.nullable(),
  details: z.record(z.string(), z.string()),
  scope,
}));

export const registerView = named('ExternalServicesRegister', z.strictObject({
  organization: z.string(),
  generatedAt: isoTime,
  entries: z.array(externalServiceView),
  /** Transitions, newest first (at most 200). */
  history: z.array(z.strictObject({ key: z.string(), name: z.string(), enabled: z.boolean(), at: isoTime, scope })),
}));
