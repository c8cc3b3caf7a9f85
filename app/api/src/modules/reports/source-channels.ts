// How a patient first reached the practice (patients.source_channel, reports): the one list the API's
// validation, the reports and the web app's field use. Pure data (the web imports it). Migration 0360
// keeps its own frozen copy for the column's check constraint.
export const SOURCE_CHANNELS = ['website_form', 'whatsapp', 'email', 'phone', 'referral', 'walk_in', 'other'] as const;
export type SourceChannel = (typeof SOURCE_CHANNELS)[number];
