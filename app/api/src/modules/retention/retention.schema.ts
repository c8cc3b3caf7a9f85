// Answer of the retention routes (http/response.ts).
import { z } from 'zod';
import { isoDay } from '../../http/response.ts';

export const retentionRunView = z.strictObject({
  dryRun: z.boolean(),
  years: z.number().int(),
  today: isoDay,
  candidates: z.array(z.strictObject({ patientId: z.uuid(), lastTreatmentOn: isoDay.nullable(), basisOn: isoDay })),
  anonymized: z.array(z.uuid()),
});
