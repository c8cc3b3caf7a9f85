// Reports in headless Chromium against the real server (build first: `npm run build`): the fixed
// demo data of tests/integration/reports-fixtures.ts; every report's table (current range and the
// previous period) shows exactly the API's figures in German ("< 5" where suppressed, numbers and
// weeks in German form), the spot values are spelled out, English follows the language switch,
// the CSV downloads with suppressed cells empty, the print view shows the same tables; axe-core on
// the reports page (German, English) and the print view; no CSP violation, no uncaught error.
import test from 'ava';
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import type { TestApp } from '../helpers/app.ts';
import { signedInPage, useSetUpInstance } from './ui-steps.ts';
import { axeViolations, screenshotOnFailure, seriousViolations } from '../helpers/browser.ts';
import { clientAs } from '../integration/patients-fixtures.ts';
import { RANGE, seedReportDemo } from '../integration/reports-fixtures.ts';
import { seriesText } from '../../app/api/src/modules/reports/report-labels.ts';

let app: TestApp;
let browser: Browser;
let organizationId: string;

useSetUpInstance(test, async (env) => {
  ({ app, browser, organizationId } = env);
  await seedReportDemo(app.db.superuserUrl, organizationId);
});

const NAMES = ['patients', 'funnel', 'appointments', 'utilisation', 'messages', 'response_time'];
type Report = { series: { key: string; label: string; names: { de: string; en: string } | null; kind: string }[]; minCount: number; rows: Row[]; previous: { rows: Row[] } };
type Row = { period: string; values: Record<string, number | null>; suppressed: string[] };

/** The table's text, row by row (header row first). */
async function tableText(page: Page, name: string, part: 'current' | 'previous'): Promise<string[][]> {
  const table = page.locator(`table[data-report="${name}"][data-part="${part}"]`);
  await table.waitFor();
  type Cell = { textContent: string | null };
  return table.locator('tr').evaluateAll((rows) => (rows as { querySelectorAll(s: string): ArrayLike<Cell> }[]).map((r) => Array.from(r.querySelectorAll('th, td')).map((c) => (c.textContent ?? '').trim())));
}

/** What the table must show for the API's answer, in German. */
function expectedTable(r: Report, rows: Row[], lang: 'de' | 'en'): string[][] {
  const nf = new Intl.NumberFormat(lang === 'de' ? 'de-DE' : 'en-GB');
  const day = (iso: string) => (lang === 'de' ? iso.split('-').reverse().join('.') : iso.split('-').reverse().join('/'));
  return [
    [lang === 'de' ? 'Periode' : 'Period', ...r.series.map((s) => seriesText(s, lang))],
    ...rows.map((row) => [`${lang === 'de' ? 'Woche ab' : 'Week of'} ${day(row.period)}`, ...r.series.map((s) => {
      if (row.suppressed.includes(s.key)) return `< ${r.minCount}`;
      const v = row.values[s.key];
      return v === null ? '–' : s.kind === 'percent' ? `${nf.format(v)} %` : nf.format(v);
    })]),
  ];
}

test('the reports page shows every report\'s figures as tables behind the charts, downloads CSV, and prints', async (t) => {
  const admin = await clientAs(app, organizationId, ['admin']);
  const o = await signedInPage(browser, app.url, admin);
  const { page } = o;
  const q = `from=${RANGE.from}&to=${RANGE.to}&granularity=week`;
  const api: Record<string, Report> = {};
  for (const name of NAMES) api[name] = (await admin.get(`/api/v1/reports/${name}?${q}`)).body;
  const a11y: Record<string, string[]> = {};

  await screenshotOnFailure(page, 'reports-ui', async () => {
    await page.goto('/');
    await page.getByRole('link', { name: 'Auswertungen' }).click();
    await page.getByRole('heading', { level: 1, name: 'Auswertungen' }).waitFor();
    await page.getByLabel('Von', { exact: true }).fill('02.02.2026');
    await page.getByLabel('Bis', { exact: true }).fill('01.03.2026');
    await page.getByRole('button', { name: 'Anzeigen' }).click();
    await page.waitForURL(/from=2026-02-02/);
    for (const name of NAMES) {
      t.deepEqual(await tableText(page, name, 'current'), expectedTable(api[name], api[name].rows, 'de'), `${name}: current range`);
      t.deepEqual(await tableText(page, name, 'previous'), expectedTable(api[name], api[name].previous.rows, 'de'), `${name}: previous period`);
      t.is(await page.locator(`#report-${name}`).locator('xpath=..').locator('.report-chart canvas').count(), 1, `${name}: a chart is drawn`);
    }
    // admins see the finance report with the others (amounts as money, nothing paid in this organization)
    const finance = await tableText(page, 'finance', 'current');
    t.deepEqual(finance[1].slice(1), ['0,00 €', '0,00 €', '0,00 €', '0,00 €', '0,00 €', '0'].map((c) => c.replace(' ', '\u00a0')));
    // spot values, spelled out
    const patients = await tableText(page, 'patients', 'current');
    t.deepEqual(patients[1].slice(0, 5), ['Woche ab 02.02.2026', '< 5', '6', '< 5', '0']);
    t.deepEqual((await tableText(page, 'utilisation', 'current'))[4], ['Woche ab 23.02.2026', '43 %', '3 %', '40 %']);
    t.deepEqual((await tableText(page, 'response_time', 'current'))[2], ['Woche ab 09.02.2026', '6', '5', '30', '46']);
    await page.getByRole('img', { name: 'Diagramm: Neue Patienten und Interessenten nach Quelle. Die Werte stehen in der Tabelle darunter.' }).waitFor();
    a11y.german = seriousViolations(await axeViolations(page));

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'CSV herunterladen: Neue Patienten und Interessenten nach Quelle' }).click(),
    ]);
    const csv = (await readFile((await download.path())!, 'utf8')).replace(/^\uFEFF/, '').split('\r\n');
    t.is(csv[0].split(',')[2], 'Neue Patienten');
    t.is(csv[1], 'aktuell,2026-02-02,,6,,0,,0,0,0,0,');

    // the admin lowers the minimum count to 3: the 3 prospects of week 1 show, the 2 phone enquiries do not
    await page.getByLabel('Mindestanzahl je Zelle').fill('3');
    await page.getByRole('button', { name: 'Einstellungen speichern' }).click();
    await page.getByText('Einstellungen gespeichert.').waitFor();
    await page.locator('table[data-report="patients"][data-part="current"] tr').nth(1).locator('td').last().filter({ hasText: /^3$/ }).waitFor();
    t.deepEqual((await tableText(page, 'patients', 'current'))[1].slice(0, 5), ['Woche ab 02.02.2026', '< 3', '6', '< 3', '0']);
    a11y.settings = seriousViolations(await axeViolations(page));
    t.is((await admin.put('/api/v1/report-settings', { minCount: 5, workDayStart: '08:00', workDayEnd: '18:00', workDays: [1, 2, 3, 4, 5] })).status, 200);
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Auswertungen' }).waitFor();
    await tableText(page, 'patients', 'current');

    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 1, name: 'Reports' }).waitFor();
    t.deepEqual(await tableText(page, 'appointments', 'current'), expectedTable(api.appointments, api.appointments.rows, 'en'));
    a11y.english = seriousViolations(await axeViolations(page));

    await page.getByRole('link', { name: 'Print view' }).click();
    await page.waitForURL(/\/reports\/print\?/);
    t.deepEqual(await tableText(page, 'funnel', 'current'), expectedTable(api.funnel, api.funnel.rows, 'en'));
    await page.getByText('Range 02/02/2026 to 01/03/2026, compared with 05/01/2026 to 01/02/2026').waitFor();
    t.is(await page.getByRole('link', { name: /^Download CSV/ }).count(), 0, 'no controls on paper');
    a11y.print = seriousViolations(await axeViolations(page));
  }, t.log);

  t.deepEqual(a11y, { german: [], settings: [], english: [], print: [] }, 'no serious or critical axe-core violations');
  t.deepEqual(o.cspViolations(), [], 'no Content-Security-Policy violation');
  t.deepEqual(o.console.filter((l) => l.startsWith('pageerror')), [], 'no uncaught error');
});

test('staff see no reports link and the API refuses them', async (t) => {
  const staff = await clientAs(app, organizationId, ['staff']);
  const o = await signedInPage(browser, app.url, staff);
  await o.page.goto('/');
  await o.page.getByRole('navigation', { name: 'Hauptnavigation' }).getByRole('link', { name: 'Patienten' }).waitFor();
  t.is(await o.page.getByRole('link', { name: 'Auswertungen' }).count(), 0);
  t.is((await staff.get(`/api/v1/reports/funnel?from=${RANGE.from}&to=${RANGE.to}`)).status, 403);
});
