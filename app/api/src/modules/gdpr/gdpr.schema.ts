// Answers of the data-subject routes (http/response.ts).
import { z } from 'zod';
import { isoTime, named } from '../../http/response.ts';

export const restrictionView = z.strictObject({ restricted: z.boolean(), restrictedAt: isoTime.nullable() });
export const objectionView = z.strictObject({ objection: z.boolean(), objectedAt: isoTime.nullable(), automatedProcessingAllowed: z.boolean() });
export const erasedView = named('ErasureResult', z.strictObject({ erased: z.boolean(), patientId: z.uuid(), erasedAt: isoTime, documentsDeleted: z.number().int() }));
export const erasureRecordView = named('ErasureRecord', z.strictObject({
  patientId: z.uuid(),
  erasedAt: isoTime,
  override: z.boolean(),
  reasonCategory: z.string().nullable(),
  /** The free-text reason, unless it was erased (then reasonErased is true). */
  reason: z.string().nullable(),
  reasonErased: z.boolean(),
}));
export const reasonErasedView = z.strictObject({ reasonErased: z.boolean() });

export const accessLogEntryView = named('AccessLogEntry', z.strictObject({
  at: isoTime,
  userId: z.uuid().nullable(),
  action: z.string(),
  outcome: z.enum(['success', 'denied', 'failure']),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  requestId: z.string().nullable(),
}));
export const accessLogView = z.strictObject({ entries: z.array(accessLogEntryView) });
