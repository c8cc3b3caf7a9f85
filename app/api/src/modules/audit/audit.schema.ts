// Answers of the audit views (http/response.ts): rows of audit_log as the API lists them.
import { z } from 'zod';
import { isoTime, named } from '../../http/response.ts';

export const auditEntryView = named('AuditEntry', z.strictObject({
  /** bigint: a decimal string; null while the entry waits for the audit sequencer (shortly after commit). */
  seq: z.string().nullable(),
  created_at: isoTime,
  actor_user_id: z.uuid().nullable(),
  action: z.string(),
  object_type: z.string().nullable(),
  object_id: z.string().nullable(),
  outcome: z.enum(['success', 'denied', 'failure']),
  request_id: z.string().nullable(),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).nullable(),
  /** The actor's display name (and sign-in name), resolved at read time for users of the same organization; absent otherwise. */
  actor_name: z.string().nullable().optional(),
  /** For entries about a user of the same organization: that user's display name. */
  object_name: z.string().nullable().optional(),
}));

export const auditEntriesView = named('AuditEntries', z.strictObject({ entries: z.array(auditEntryView) }));
