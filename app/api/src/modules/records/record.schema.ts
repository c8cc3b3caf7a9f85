// Bodies of the health-record entries. A correction is a new entry with supersedesId and a
// reason; the old version stays (Art. 16 keeps the trail).
import { z } from 'zod';
import { isoDate } from '../patients/patient.schema.ts';

/** ICD-10-GM: letter, two digits, optional subcategory (.x or .xx), optional dagger/star/! mark. */
export const ICD10_GM = /^[A-Z][0-9]{2}(\.[0-9]{1,2}|\.-)?[†*!+]?$/;

const correction = {
  supersedesId: z.uuid().optional(),
  correctionReason: z.string().trim().min(1).max(1000).optional(),
};
const notFuture = (field: z.ZodString | typeof isoDate) =>
  field.refine((s: string) => s <= new Date().toISOString().slice(0, 10), 'must not be in the future');

export const anamnesisBody = z.strictObject({
  questionnaireKey: z.string().regex(/^[a-z][a-z0-9_]{1,62}$/).default('anamnesis'),
  questionnaireVersion: z.number().int().positive().optional(),
  answers: z.record(z.string(), z.unknown()),
  ...correction,
});

export const diagnosisBody = z.strictObject({
  code: z.string().trim().toUpperCase().regex(ICD10_GM, 'must be an ICD-10-GM code such as L64.9'),
  text: z.string().trim().min(1).max(500),
  /** Diagnosesicherheit: G gesichert, V Verdacht, Z Zustand nach, A ausgeschlossen. */
  certainty: z.enum(['G', 'V', 'Z', 'A']).default('G'),
  side: z.enum(['R', 'L', 'B']).optional(),
  diagnosedOn: notFuture(isoDate).optional(),
  ...correction,
});

export const treatmentBody = z.strictObject({
  performedOn: notFuture(isoDate),
  type: z.string().trim().min(1).max(100),
  description: z.string().trim().min(1).max(10_000),
  performedBy: z.string().trim().max(200).optional(),
  ...correction,
});

export const planBody = z.strictObject({
  title: z.string().trim().min(1).max(200),
  status: z.enum(['draft', 'proposed', 'accepted', 'in_progress', 'completed', 'cancelled']).default('draft'),
  plannedFor: isoDate.optional(),
  steps: z.array(z.strictObject({ description: z.string().trim().min(1).max(1000), due: isoDate.optional() })).max(100).default([]),
  notes: z.string().trim().max(10_000).optional(),
  ...correction,
});

export const KINDS = ['anamnesis', 'diagnosis', 'treatment', 'plan'] as const;
export type Kind = (typeof KINDS)[number];

export const entryParams = z.strictObject({ id: z.uuid(), entryId: z.uuid() });
