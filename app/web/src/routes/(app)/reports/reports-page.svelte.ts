// State of the reports pages: the range, the grouping, and each listed report's answer. The range
// lives in the URL (no patient data in it) so the print view opens with the same figures.
import { api, type Report } from '#lib/api.ts';
import { describeError } from '#lib/state/form.svelte.ts';
import { session } from '#lib/state/session.svelte.ts';
import { REPORTS, defaultRange, type ReportEntry } from '#lib/reports.ts';

export type Granularity = 'week' | 'month';
export interface Loaded { entry: ReportEntry; report: Report | null; error: string | null }

export function rangeFromUrl(url: { searchParams: { get(name: string): string | null } }): { from: string; to: string; granularity: Granularity } {
  const d = defaultRange(session.today());
  const day = (v: string | null, fallback: string) => (v && /^\d{4}-\d{2}-\d{2}$/.test(v) ? v : fallback);
  return { from: day(url.searchParams.get('from'), d.from), to: day(url.searchParams.get('to'), d.to), granularity: url.searchParams.get('granularity') === 'month' ? 'month' : 'week' };
}

export const visibleReports = () => REPORTS.filter((r) => session.can(r.permission));

export async function loadAll(q: { from: string; to: string; granularity: Granularity }): Promise<Loaded[]> {
  return Promise.all(visibleReports().map(async (entry) => {
    try {
      return { entry, report: await api.report(entry.path, q), error: null };
    } catch (err) {
      return { entry, report: null, error: describeError(err) };
    }
  }));
}
