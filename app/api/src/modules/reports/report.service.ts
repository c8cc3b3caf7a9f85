// Reports and statistics (issue 14 item 1, docs/reports.md): aggregates computed by PostgreSQL in
// the caller's organization (row-level security), small counts suppressed (suppression.ts), the
// previous period of the same length alongside, CSV with formula neutralisation. No report reads
// health content: the only record column used is the plain pre-qualification flag.
import { withScope, type Tx } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import { notFound, validation } from '../../core/errors.ts';
import type { Services } from '../../http/services.ts';
import { audit } from '../audit/audit.service.ts';
import { organizationTimeZone } from '../appointments/appointment.repository.ts';
import { readScope, scope } from '../patients/patient.service.ts';
import type { Permission } from '../../core/permissions.ts';
import * as repo from './report.repository.ts';
import { CSV_UNIT, seriesText, type ReportName } from './report-labels.ts';
import { MAX_RANGE_DAYS, type ReportQuery, type SettingsInput } from './report.schema.ts';
import { daysBetween, periods, previousRange, workDaysIn } from './periods.ts';
import { suppressRow, type SeriesKind, type SeriesRule, type ShownRow } from './suppression.ts';
import { toCsv } from './csv.ts';
import { SOURCE_CHANNELS, type SourceChannel } from './source-channels.ts';

type Text = { de: string; en: string };
export interface Series { key: string; label: string; names: Text | null; kind: SeriesKind }
/** A report: its series, their suppression rules, and each period's values from the SQL cells (by key). */
export interface Definition { series: Series[]; rules: SeriesRule[]; values: (period: { start: string; first: string; last: string }, cells: Map<string, number>) => Record<string, number> }
/** Builds a report's definition and its SQL cells for a range (a module's own report plugs in here, e.g. finance). */
export type Define = (trx: Tx, range: repo.Range, settings: repo.SettingsRow) => Promise<{ def: Definition; cells: repo.Cell[] }>;
export interface ReportBody { report: string; from: string; to: string; granularity: 'week' | 'month'; minCount: number; series: Series[]; rows: ShownRow[] }

const SOURCES = [...SOURCE_CHANNELS, 'unknown'];
const STATUSES = ['planned', 'confirmed', 'arrived', 'in_treatment', 'done', 'no_show', 'cancelled'];
const OUTCOMES = ['pending', 'sent', 'delivered', 'read', 'failed', 'blocked', 'cancelled'];
const CHANNELS = ['email', 'whatsapp'];
const s = (key: string, label: string, kind: SeriesKind = 'count', names: Text | null = null): Series => ({ key, label, names, kind });
const round1 = (x: number) => Math.round(x * 10) / 10;

/** Checks the range: to not before from, at most MAX_RANGE_DAYS days. */
export function checkRange(q: { from: string; to: string }): void {
  const days = daysBetween(q.from, q.to) + 1;
  if (days < 1) throw validation('query.to', 'is before query.from', 'invalid_value');
  if (days > MAX_RANGE_DAYS) {
    const e = validation('query.to', `the range is longer than ${MAX_RANGE_DAYS} days`, 'too_large');
    (e.details as { limit?: number }[])[0].limit = MAX_RANGE_DAYS;
    throw e;
  }
}

async function definition(trx: Tx, name: ReportName, r: repo.Range, settings: repo.SettingsRow): Promise<{ def: Definition; cells: repo.Cell[] }> {
  const pick = (cells: Map<string, number>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, cells.get(k) ?? 0]));
  switch (name) {
    case 'patients': {
      const series = [s('new_patients', 'reports.series.new_patients'), ...SOURCES.map((c) => s(`source:${c}`, `reports.series.source.${c}`)), s('prospects', 'reports.series.prospects')];
      const rules: SeriesRule[] = [
        { key: 'new_patients', kind: 'count', group: 'source', total: true },
        ...SOURCES.map((c): SeriesRule => ({ key: `source:${c}`, kind: 'count', group: 'source' })),
        { key: 'prospects', kind: 'count' },
      ];
      return {
        cells: await repo.newPatients(trx, r),
        def: { series, rules, values: (_p, c) => ({ ...pick(c, rules.map((x) => x.key)), new_patients: SOURCES.reduce((a, k) => a + (c.get(`source:${k}`) ?? 0), 0) }) },
      };
    }
    case 'funnel': {
      const keys = ['enquiry', 'qualified', 'consultation', 'surgery'];
      return {
        cells: await repo.funnel(trx, r),
        def: { series: keys.map((k) => s(k, `reports.series.funnel.${k}`)), rules: keys.map((k) => ({ key: k, kind: 'count' as const })), values: (_p, c) => pick(c, keys) },
      };
    }
    case 'appointments': {
      const types = await repo.appointmentTypes(trx);
      const series = [
        s('total', 'reports.series.appointments.total'), ...STATUSES.map((x) => s(`status:${x}`, `reports.series.status.${x}`)),
        s('no_show_rate', 'reports.series.no_show_rate', 'percent'),
        ...types.map((t) => s(`type:${t.id}`, 'reports.series.type', 'count', { de: t.name_de, en: t.name_en })),
      ];
      const rules: SeriesRule[] = [
        { key: 'total', kind: 'count', group: 'status', total: true },
        ...STATUSES.map((x): SeriesRule => ({ key: `status:${x}`, kind: 'count', group: 'status' })),
        // no-shows among the appointments that were not cancelled
        { key: 'no_show_rate', kind: 'percent', dependsOn: ['status:no_show', 'total'] },
        ...types.map((t): SeriesRule => ({ key: `type:${t.id}`, kind: 'count', group: 'type' })),
        { key: '_type_total', kind: 'count', group: 'type', total: true },
      ];
      return {
        cells: await repo.appointmentsByStatusAndType(trx, r),
        def: {
          series, rules,
          values: (_p, c) => {
            const total = STATUSES.reduce((a, k) => a + (c.get(`status:${k}`) ?? 0), 0);
            const held = total - (c.get('status:cancelled') ?? 0);
            return { ...pick(c, rules.map((x) => x.key)), total, _type_total: total, no_show_rate: held ? round1((100 * (c.get('status:no_show') ?? 0)) / held) : 0 };
          },
        },
      };
    }
    case 'utilisation': {
      const res = await repo.resources(trx);
      const cells = await repo.bookedMinutes(trx, r);
      const booked = new Set(cells.map((c) => c.key));
      const shown = res.filter((x) => x.active || booked.has(`${x.kind}:${x.id}`));
      const [h1, m1] = settings.work_day_start.split(':').map(Number);
      const [h2, m2] = settings.work_day_end.split(':').map(Number);
      const perDay = h2 * 60 + m2 - (h1 * 60 + m1);
      return {
        cells,
        def: {
          series: shown.map((x) => s(`${x.kind}:${x.id}`, `reports.series.${x.kind}`, 'percent', { de: x.name_de, en: x.name_en })),
          rules: shown.map((x) => ({ key: `${x.kind}:${x.id}`, kind: 'percent' as const })),
          values: (p, c) => {
            const available = workDaysIn(p.first, p.last, settings.work_days) * perDay;
            return Object.fromEntries(shown.map((x) => {
              const k = `${x.kind}:${x.id}`;
              return [k, available ? round1((100 * (c.get(k) ?? 0)) / available) : 0];
            }));
          },
        },
      };
    }
    case 'messages': {
      const keys = CHANNELS.flatMap((ch) => OUTCOMES.map((o) => `message:${ch}:${o}`));
      const rules: SeriesRule[] = [
        { key: 'total', kind: 'count', group: 'out', total: true },
        ...keys.map((k): SeriesRule => ({ key: k, kind: 'count', group: 'out' })),
        { key: 'inbound:whatsapp', kind: 'count' },
      ];
      return {
        cells: await repo.messages(trx, r),
        def: {
          series: [s('total', 'reports.series.messages.total'), ...keys.map((k) => s(k, `reports.series.${k.replace(/:/g, '.')}`)), s('inbound:whatsapp', 'reports.series.inbound.whatsapp')],
          rules,
          values: (_p, c) => ({ ...pick(c, rules.map((x) => x.key)), total: keys.reduce((a, k) => a + (c.get(k) ?? 0), 0) }),
        },
      };
    }
    case 'response_time': {
      const keys = ['conversations', 'answered', 'median', 'p90'];
      return {
        cells: await repo.responseTimes(trx, r),
        def: {
          series: [s('conversations', 'reports.series.response.conversations'), s('answered', 'reports.series.response.answered'), s('median', 'reports.series.response.median', 'minutes'), s('p90', 'reports.series.response.p90', 'minutes')],
          rules: [
            { key: 'conversations', kind: 'count' }, { key: 'answered', kind: 'count' },
            // a median over fewer than minCount answers would tell about single conversations
            { key: 'median', kind: 'minutes', dependsOn: ['answered'] }, { key: 'p90', kind: 'minutes', dependsOn: ['answered'] },
          ],
          values: (_p, c) => {
            const v = pick(c, keys);
            v.median = c.has('median') ? round1(v.median) : NaN;
            v.p90 = c.has('p90') ? round1(v.p90) : NaN;
            return v;
          },
        },
      };
    }
  }
}

async function compute(trx: Tx, name: string, define: Define, q: ReportQuery, timeZone: string, settings: repo.SettingsRow): Promise<ReportBody> {
  const { def, cells } = await define(trx, { ...q, timeZone }, settings);
  const byPeriod = new Map<string, Map<string, number>>();
  for (const c of cells) {
    if (!byPeriod.has(c.period)) byPeriod.set(c.period, new Map());
    const m = byPeriod.get(c.period)!;
    m.set(c.key, (m.get(c.key) ?? 0) + c.n);
  }
  const rows = periods(q.from, q.to, q.granularity).map((p) => {
    const shown = suppressRow(def.rules, { period: p.start, values: def.values(p, byPeriod.get(p.start) ?? new Map()) }, settings.min_count);
    // helper cells (a second group's total) are not part of the answer
    for (const k of Object.keys(shown.values)) if (k.startsWith('_')) delete shown.values[k];
    shown.suppressed = shown.suppressed.filter((k) => !k.startsWith('_'));
    return shown;
  });
  return { report: name, from: q.from, to: q.to, granularity: q.granularity, minCount: settings.min_count, series: def.series, rows };
}

/**
 * Any report, the built-in ones and a module's own (finance): the caller's permission, the range
 * check, the organization's minimum count and time zone, the previous period, the audit entry.
 */
export async function runReport(services: Services, name: string, permission: Permission, define: Define, q: ReportQuery) {
  const actor = authorize(permission);
  checkRange(q);
  return withScope(services.db, readScope(actor), async (trx) => {
    const [timeZone, settings] = await Promise.all([organizationTimeZone(trx, actor.organizationId), repo.settings(trx)]);
    const current = await compute(trx, name, define, q, timeZone, settings);
    const previous = await compute(trx, name, define, { ...q, ...previousRange(q.from, q.to) }, timeZone, settings);
    await audit(trx, { action: 'report.read', objectType: 'report', objectId: name, details: { from: q.from, to: q.to, granularity: q.granularity } });
    return { ...current, previous };
  });
}

/** The report as CSV: a column per series in the chosen language (money columns name their unit, EUR cents), the previous period below the current one. */
export async function runReportCsv(services: Services, name: string, permission: Permission, define: Define, q: ReportQuery & { lang: 'de' | 'en' }): Promise<string> {
  const r = await runReport(services, name, permission, define, q);
  const range = q.lang === 'de' ? { head: ['Zeitraum', 'Periode'], current: 'aktuell', previous: 'Vorperiode' } : { head: ['Range', 'Period'], current: 'current', previous: 'previous' };
  const line = (label: string, row: ShownRow) => [label, row.period, ...r.series.map((x) => row.values[x.key] ?? null)];
  const head = (x: Series) => (CSV_UNIT[x.kind] ? `${seriesText(x, q.lang)} (${CSV_UNIT[x.kind][q.lang]})` : seriesText(x, q.lang));
  return toCsv([
    [...range.head, ...r.series.map(head)],
    ...r.rows.map((row) => line(range.current, row)),
    ...r.previous.rows.map((row) => line(range.previous, row)),
  ]);
}

export const builtInDefinition = (name: ReportName): Define => (trx, r, settings) => definition(trx, name, r, settings);

const view = (row: repo.SettingsRow): SettingsInput => ({ minCount: row.min_count, workDayStart: row.work_day_start, workDayEnd: row.work_day_end, workDays: row.work_days });

export async function getSettings(services: Services): Promise<SettingsInput> {
  const actor = authorize('reports.read');
  return withScope(services.db, readScope(actor), async (trx) => view(await repo.settings(trx)));
}

/** Admin: the minimum count per cell and the working hours (audited with the old and new values). */
export async function updateSettings(services: Services, input: SettingsInput): Promise<SettingsInput> {
  const actor = authorize('reports.configure');
  if (input.workDayEnd <= input.workDayStart) throw validation('body.workDayEnd', 'is not after body.workDayStart', 'invalid_value');
  return withScope(services.db, scope(actor), async (trx) => {
    const before = view(await repo.settings(trx));
    const next = { min_count: input.minCount, work_day_start: input.workDayStart, work_day_end: input.workDayEnd, work_days: [...new Set(input.workDays)].sort() };
    await repo.saveSettings(trx, actor.organizationId, next, actor.userId);
    await audit(trx, { action: 'report.settings.updated', objectType: 'organization', objectId: actor.organizationId, details: { before, after: view(next) } });
    return view(next);
  });
}

/** How a patient first reached the practice (master data; plain enum for counting, docs/reports.md). */
export async function setSourceChannel(services: Services, patientId: string, sourceChannel: string | null) {
  const actor = authorize('patients.write');
  return withScope(services.db, scope(actor), async (trx) => {
    const before = await trx('patients').where({ id: patientId }).whereNull('anonymized_at').forUpdate().first('source_channel');
    if (!before) throw notFound('Patient');
    await trx('patients').where({ id: patientId }).update({ source_channel: sourceChannel });
    await audit(trx, { action: 'patient.source_channel.updated', objectType: 'patient', objectId: patientId, details: { before: before.source_channel, after: sourceChannel } });
    return { sourceChannel };
  });
}

export async function getSourceChannel(services: Services, patientId: string) {
  const actor = authorize('patients.read');
  return withScope(services.db, readScope(actor), async (trx) => {
    const row = await trx('patients').where({ id: patientId }).first('source_channel');
    if (!row) throw notFound('Patient');
    await audit(trx, { action: 'patient.source_channel.read', objectType: 'patient', objectId: patientId });
    return { sourceChannel: row.source_channel as SourceChannel | null };
  });
}
