// GET /reports/<name> (JSON) and /reports/<name>.csv for each report, literal paths so the web
// client's types name every report; the report settings; a patient's source channel.
import { defineRoute, type AnyRoute } from '../../http/route.ts';
import { file, ok } from '../../http/response.ts';
import { idParams } from '../patients/patient.schema.ts';
import { REPORT_NAMES } from './report-labels.ts';
import { csvQuery, reportQuery, reportView, settingsBody, settingsView, sourceChannelBody, sourceChannelView } from './report.schema.ts';
import type { Permission } from '../../core/permissions.ts';
import { builtInDefinition, getSettings, getSourceChannel, runReport, runReportCsv, setSourceChannel, updateSettings, type Define } from './report.service.ts';

const tags = ['reports'];

/** The JSON and CSV routes of one report; a module's own report (finance) uses this with its permission and definition. */
export function reportRoutesFor(name: string, access: Permission, define: Define, tags: string[] = ['reports']): AnyRoute[] {
  return [
    defineRoute({
      method: 'get', path: `/reports/${name}.csv`, access, tags, query: csvQuery,
      summary: `The ${name} report as CSV (suppressed cells empty, formula-like text neutralised)`,
      response: file('CSV, UTF-8 with BOM', ['text/csv']),
      handler: async ({ ctx, services, query }) => {
        const body = await runReportCsv(services, name, access, define, query);
        ctx.set('cache-control', 'no-store');
        ctx.set('content-disposition', `attachment; filename="report-${name}-${query.from}-${query.to}.csv"`);
        ctx.type = 'text/csv; charset=utf-8';
        ctx.body = body;
      },
    }),
    defineRoute({
      method: 'get', path: `/reports/${name}`, access, tags, query: reportQuery,
      summary: `The ${name} report per week or month with the previous period of the same length (small counts suppressed)`,
      response: ok(reportView),
      handler: async ({ ctx, services, query }) => {
        ctx.set('cache-control', 'no-store');
        return runReport(services, name, access, define, query);
      },
    }),
  ];
}

const perReport = REPORT_NAMES.flatMap((name): AnyRoute[] => reportRoutesFor(name, 'reports.read', builtInDefinition(name)));

export const reportRoutes: AnyRoute[] = [
  ...perReport,
  defineRoute({
    method: 'get', path: '/report-settings', access: 'reports.read', tags,
    summary: 'The minimum count per report cell and the working hours that define available minutes',
    response: ok(settingsView),
    handler: ({ services }) => getSettings(services),
  }),
  defineRoute({
    method: 'put', path: '/report-settings', access: 'reports.configure', tags, body: settingsBody,
    summary: 'Change the minimum count per report cell and the working hours (audited)',
    response: ok(settingsView),
    handler: ({ services, body }) => updateSettings(services, body),
  }),
  defineRoute({
    method: 'get', path: '/patients/:id/source-channel', access: 'patients.read', tags, params: idParams,
    summary: 'How the patient first reached the practice (website form, WhatsApp, e-mail, phone, referral, walk-in, other)',
    response: ok(sourceChannelView),
    handler: ({ services, params }) => getSourceChannel(services, params.id),
  }),
  defineRoute({
    method: 'put', path: '/patients/:id/source-channel', access: 'patients.write', tags, params: idParams, body: sourceChannelBody,
    summary: 'Record how the patient first reached the practice (audited)',
    response: ok(sourceChannelView),
    handler: ({ services, params, body }) => setSourceChannel(services, params.id, body.sourceChannel),
  }),
];
