// Categories of a retention override (pure data, shared with the web UI): the category stays in
// clear in the audit log; the free-text reason is stored only encrypted (erasure-reason.ts).
export const REASON_CATEGORIES = [
  'data_subject_request', 'consent_withdrawn', 'unlawful_processing', 'wrong_or_duplicate_record', 'legal_obligation', 'other',
] as const;
export type ReasonCategory = (typeof REASON_CATEGORIES)[number];
