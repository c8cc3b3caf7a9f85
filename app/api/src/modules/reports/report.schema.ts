import { z } from 'zod';
import { isoDay, named } from '../../http/response.ts';
import { REPORT_NAMES } from './report-labels.ts';
import { SOURCE_CHANNELS } from './source-channels.ts';

/** Longest range a report covers (two years and a day: a leap year fits twice). */
export const MAX_RANGE_DAYS = 732;

export const reportQuery = z.strictObject({
  from: isoDay,
  to: isoDay,
  granularity: z.enum(['week', 'month']).default('week'),
});
export type ReportQuery = z.infer<typeof reportQuery>;

export const csvQuery = reportQuery.extend({ lang: z.enum(['de', 'en']).default('en') });

export const reportNameParams = z.strictObject({ name: z.enum(REPORT_NAMES) });

const text = z.strictObject({ de: z.string(), en: z.string() });
export const seriesView = named('ReportSeries', z.strictObject({
  key: z.string(),
  /** Label code (reports.series.…), translated by the UI; types and resources add their own names. */
  label: z.string(),
  names: text.nullable(),
  /** cents: integer cents (EUR), shown as an amount in the UI language's currency format. */
  kind: z.enum(['count', 'percent', 'minutes', 'cents']),
}));
export const rowView = named('ReportRow', z.strictObject({
  period: isoDay,
  values: z.record(z.string(), z.number().nullable()),
  suppressed: z.array(z.string()),
}));
const core = {
  report: z.string(),
  from: isoDay,
  to: isoDay,
  granularity: z.enum(['week', 'month']),
  minCount: z.number().int(),
  series: z.array(seriesView),
  rows: z.array(rowView),
};
export const previousView = named('ReportPrevious', z.strictObject(core));
export const reportView = named('Report', z.strictObject({ ...core, previous: previousView }));

const hhmm = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'HH:MM');
export const settingsBody = z.strictObject({
  minCount: z.number().int().min(1).max(100),
  workDayStart: hhmm,
  workDayEnd: hhmm,
  workDays: z.array(z.number().int().min(1).max(7)).min(1).max(7),
});
export type SettingsInput = z.infer<typeof settingsBody>;
export const settingsView = named('ReportSettings', settingsBody);

export const sourceChannelBody = z.strictObject({ sourceChannel: z.enum(SOURCE_CHANNELS).nullable() });
export const sourceChannelView = sourceChannelBody;
