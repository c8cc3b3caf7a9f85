// The reports the reports page offers, data-driven: one line per report. A report is listed for
// whoever holds its permission; its path must be a JSON report route of the OpenAPI document
// (ReportPath, a type error otherwise). The finance report (finance module, same Report shape,
// amounts in cents) is listed for finance.read: a finance user sees the reports page with it alone.
import type { Permission } from './permissions.ts';
import type { ReportPath } from './api.ts';
import { addDays } from './appointments.ts';

export type ChartKind = 'stacked' | 'bar' | 'line';
export interface ReportEntry {
  name: 'patients' | 'funnel' | 'appointments' | 'utilisation' | 'messages' | 'response_time' | 'finance';
  permission: Permission;
  path: ReportPath;
  chart: ChartKind;
  /** The series drawn (the table shows all of them). */
  charted: (key: string) => boolean;
}

export const REPORTS: ReportEntry[] = [
  { name: 'patients', permission: 'reports.read', path: '/api/v1/reports/patients', chart: 'stacked', charted: (k) => k.startsWith('source:') || k === 'prospects' },
  { name: 'funnel', permission: 'reports.read', path: '/api/v1/reports/funnel', chart: 'bar', charted: () => true },
  { name: 'appointments', permission: 'reports.read', path: '/api/v1/reports/appointments', chart: 'stacked', charted: (k) => k.startsWith('status:') },
  { name: 'utilisation', permission: 'reports.read', path: '/api/v1/reports/utilisation', chart: 'bar', charted: () => true },
  { name: 'messages', permission: 'reports.read', path: '/api/v1/reports/messages', chart: 'stacked', charted: (k) => k.startsWith('message:') },
  { name: 'response_time', permission: 'reports.read', path: '/api/v1/reports/response_time', chart: 'line', charted: (k) => k === 'median' || k === 'p90' },
  { name: 'finance', permission: 'finance.read', path: '/api/v1/reports/finance', chart: 'bar', charted: (k) => k !== 'payingPatients' },
];

/** Okabe–Ito: eight colours told apart with the common colour-vision deficiencies. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

/** The range shown first: the last 12 weeks up to today (the practice's calendar day, YYYY-MM-DD). */
export function defaultRange(today: string): { from: string; to: string } {
  return { from: addDays(today, -83), to: today };
}
