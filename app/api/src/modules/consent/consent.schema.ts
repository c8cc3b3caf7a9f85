import { z } from 'zod';
import { isoTime, named } from '../../http/response.ts';

/** Purposes a patient can consent to; other modules ask hasConsent(trx, patientId, purpose). */
export const PURPOSES = ['health_data', 'whatsapp_contact', 'email_contact', 'ai_preparation', 'photo_use', 'photo_publication', 'third_country_transfer'] as const;
export type Purpose = (typeof PURPOSES)[number];
export const CHANNELS = ['paper', 'in_person', 'web', 'email', 'whatsapp', 'phone'] as const;

export const consentBody = z.strictObject({
  purpose: z.enum(PURPOSES),
  action: z.enum(['granted', 'withdrawn']),
  /** Version of the consent text the patient saw, e.g. "2026-01" or "v3". */
  textVersion: z.string().trim().min(1).max(50),
  channel: z.enum(CHANNELS),
  note: z.string().trim().max(2000).optional(),
});

// ---- answers (http/response.ts) ----
export const consentEntryView = named('ConsentEntry', z.strictObject({
  id: z.uuid(),
  purpose: z.enum(PURPOSES),
  action: z.enum(['granted', 'withdrawn']),
  textVersion: z.string(),
  channel: z.enum(CHANNELS),
  note: z.string().nullable(),
  recordedBy: z.uuid().nullable(),
  recordedAt: isoTime,
}));
/** The current state per purpose (every purpose present) and the append-only log. */
export const consentsView = z.strictObject({
  current: z.strictObject(Object.fromEntries(PURPOSES.map((p) => [p, z.boolean()])) as Record<Purpose, z.ZodBoolean>),
  log: z.array(consentEntryView),
});
export const recordedConsentView = z.strictObject({ consent: consentEntryView });
