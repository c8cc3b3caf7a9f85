// The installation page in headless Chromium against the real server (build first: `npm run
// build`): the first administrator is the installation's operator, sees the installation
// navigation, grants and revokes the operator role and reads the installation audit log; an
// organization admin without the role sees no installation navigation and cannot open the page.
// The page shows the running version and the update history (from → to, when in the UI
// language's format, who, the outcome translated, the duration) in German and English.
// Every state is checked with axe-core and for Content-Security-Policy violations.
import anyTest, { type TestFn } from 'ava';
import type { Browser } from 'playwright-core';
import { withScope } from '../../app/api/src/db/connection.ts';
import { createSession } from '../../app/api/src/modules/auth/session.service.ts';
import { recordUpdate } from '../../app/api/src/modules/updates/update-history.service.ts';
import { parseUpdateRecord } from '../../app/api/src/modules/updates/update-record.ts';
import { VERSION } from '../../app/api/src/version.ts';
import { ADMIN, startTestApp, type TestApp } from '../helpers/app.ts';
import { axeViolations, launchBrowser, observedPage, screenshotOnFailure, seriousViolations } from '../helpers/browser.ts';
import { ownerDb, stopApp } from '../integration/auth-fixtures.ts';
import { completeSetup, confirmRecoveryCodes, openAdminMenu } from './ui-steps.ts';

const test = anyTest as TestFn<{ app: TestApp; browser: Browser }>;

test.before(async (t) => {
  t.context = { app: await startTestApp(), browser: await launchBrowser() };
});

test.after.always(async (t) => {
  await t.context.browser?.close();
  await stopApp(t.context.app);
});

const ROLLBACK = {
  id: '0b5c3a52-2f5e-4d1a-9a4e-5b0c2d7e9f10', kind: 'rollback', fromVersion: '1.1.0', toVersion: '1.0.0', startedAt: '2026-11-28T09:00:00Z',
  finishedAt: '2026-11-28T09:02:30Z', outcome: 'rolled_back', by: 'itadmin', durationSeconds: 150.4, detail: 'health gate: readyz timed out',
  forced: false, forceReason: null, snapshotRestored: true, phases: { gate: 120 },
};
const UPDATE = {
  id: '6f1d2c3b-8a9e-4f70-b1c2-d3e4f5a6b7c8', kind: 'update', fromVersion: '1.0.0', toVersion: '1.1.0', startedAt: '2026-11-20T08:00:00Z',
  finishedAt: '2026-11-20T08:00:42Z', outcome: 'succeeded', by: 'ansible', durationSeconds: 42, detail: null,
  forced: true, forceReason: 'Sicherungsziel wird heute getauscht', snapshotRestored: false, phases: {},
};
// shown in the practice's time zone (the organization's default), whatever zone the browser runs in
const when = (iso: string, locale: string) => new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Berlin' }).format(new Date(iso));

test('the operator manages operators and reads the installation audit log; an organization admin sees no installation pages', async (t) => {
  const { app, browser } = t.context;
  const o = await observedPage(browser, app.url);
  const { page } = o;
  const a11y: Record<string, string[]> = {};

  await screenshotOnFailure(page, 'installation-ui', async () => {
    await completeSetup(page);
    await confirmRecoveryCodes(page);
    // Two runs as the host updater records them (praxiskern update-record in the worker).
    for (const run of [UPDATE, ROLLBACK]) await recordUpdate(ownerDb(app), parseUpdateRecord(Buffer.from(JSON.stringify(run))));
    const nav = page.getByRole('navigation', { name: 'Hauptnavigation' });
    await openAdminMenu(page);
    await nav.getByRole('link', { name: 'Installation' }).click();
    await page.getByRole('heading', { level: 1, name: 'Installation' }).waitFor();

    // The running version and the history, newest first, in German.
    t.is(await page.getByTestId('running-version').textContent(), VERSION);
    t.regex((await page.getByText('Laufende Version:').textContent()) ?? '', new RegExp(`Laufende Version: ${VERSION.replace(/\./g, '\\.')}`));
    const updates = page.getByRole('table', { name: 'Version und Aktualisierungen' });
    await updates.getByRole('rowheader', { name: '1.1.0 nach 1.0.0' }).waitFor();
    const rows = updates.getByRole('row');
    const cells = async (i: number) => (await rows.nth(i).getByRole('cell').allTextContents()).map((c) => c.replace(/\s+/g, ' ').trim());
    t.deepEqual(await cells(1), ['Rücksetzung', when(ROLLBACK.startedAt, 'de-DE'), 'itadmin', 'Zurückgesetzt Sicherung von vor der Aktualisierung zurückgespielt health gate: readyz timed out', '2 min 30 s']);
    await rows.nth(2).getByRole('rowheader', { name: '1.0.0 nach 1.1.0' }).waitFor();
    t.deepEqual(await cells(2), ['Aktualisierung', when(UPDATE.startedAt, 'de-DE'), 'ansible', 'Erfolgreich Erzwungen, ohne vollständige Sicherung vorab: Sicherungsziel wird heute getauscht', '42 s']);

    // The first administrator is the only operator; setup's grant is in the installation log.
    const operators = page.getByRole('table', { name: 'Betreiber der Installation' });
    await operators.getByRole('rowheader', { name: new RegExp(ADMIN.adminDisplayName) }).waitFor();
    const log = page.getByRole('table', { name: 'Installationsprotokoll' });
    await log.getByRole('cell', { name: 'Installationsbetreuer ernannt', exact: true }).first().waitFor();
    t.is(await log.getByRole('cell', { name: 'Anmeldung', exact: true }).count(), 0, 'organization events stay in the organization log');
    a11y.page = seriousViolations(await axeViolations(page));

    // A second organization's admin, created on the server.
    const [org] = await ownerDb(app)('organizations').insert({ name: 'Praxis Süd', slug: 'praxis-sued' }).returning('id');
    const [sued] = await ownerDb(app)('users').insert({ organization_id: org.id, username: 'sued-admin', display_name: 'Süd Admin', roles: ['admin'] }).returning('id');

    // An unknown account is refused next to the form, in German.
    const field = page.getByLabel('Benutzername oder Benutzer-ID');
    await field.fill('nobody-here');
    await page.getByRole('button', { name: 'Betreiberrolle vergeben' }).click();
    await page.getByRole('alert').getByText('Es gibt kein Konto mit diesem Benutzernamen oder dieser ID.').waitFor();
    a11y.error = seriousViolations(await axeViolations(page));

    await field.fill('sued-admin@praxis-sued');
    await page.getByRole('button', { name: 'Betreiberrolle vergeben' }).click();
    await page.getByText('Süd Admin ist jetzt Betreiber der Installation.').waitFor();
    const row = operators.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /Süd Admin/ }) });
    t.regex((await row.textContent()) ?? '', /Praxis Süd/);
    t.is(await ownerDb(app)('installation_operators').where({ user_id: sued.id }).count<{ count: string }[]>('* as count').then((r) => Number(r[0].count)), 1);

    await row.getByRole('button', { name: /^Betreiberrolle entziehen/ }).click();
    await page.getByText('Süd Admin ist kein Betreiber mehr.').waitFor();
    await log.getByRole('cell', { name: 'Installationsbetreuer entfernt', exact: true }).waitFor();
    t.is(await operators.getByRole('button', { name: new RegExp(ADMIN.adminDisplayName) }).count(), 0, 'nobody can revoke their own role from the page');
    a11y.afterRevoke = seriousViolations(await axeViolations(page));

    // English: the same page in the other language.
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 2, name: 'Installation operators' }).waitFor();
    await page.getByRole('table', { name: 'Installation audit log' }).waitFor();
    await page.getByText(`Running version: ${VERSION}`).waitFor();
    const updatesEn = page.getByRole('table', { name: 'Version and updates' });
    await updatesEn.getByRole('rowheader', { name: '1.1.0 to 1.0.0' }).waitFor();
    const firstEn = (await updatesEn.getByRole('row').nth(1).getByRole('cell').allTextContents()).map((c) => c.replace(/\s+/g, ' ').trim());
    t.deepEqual(firstEn, ['Rollback', when(ROLLBACK.startedAt, 'en-GB'), 'itadmin', 'Rolled back Pre-update snapshot restored health gate: readyz timed out', '2 min 30 s']);
    a11y.english = seriousViolations(await axeViolations(page));

    // The organization admin of the second organization: no installation navigation, no page.
    const issued = await withScope(app.services.db, { organizationId: org.id, userId: sued.id }, (trx) =>
      createSession(trx, app.config, { organizationId: org.id, userId: sued.id, roles: ['admin'], method: 'local' }));
    const other = await observedPage(browser, app.url);
    await other.context.addCookies([
      { name: 'pk_session', value: issued.token, url: app.url },
      { name: 'pk_csrf', value: issued.csrfToken, url: app.url },
    ]);
    await other.page.goto('/admin/installation');
    await other.page.waitForURL((url) => url.pathname === '/');
    const otherNav = other.page.getByRole('navigation', { name: 'Hauptnavigation' });
    await otherNav.getByRole('link', { name: 'Übersicht' }).waitFor();
    t.deepEqual(await otherNav.getByRole('link').allTextContents(), ['Übersicht', 'Patienten', 'Kalender', 'Wartezimmer', 'Anreisen', 'Posteingang', 'Finanzen', 'Auswertungen'], 'the daily work as top-level links');
    await openAdminMenu(other.page);
    t.deepEqual((await otherNav.getByRole('link').allTextContents()).slice(8), ['Benutzer', 'Protokoll', 'Fragebögen', 'Nachrichtenkanäle', 'Postausgang', 'KI-Vorbereitung', 'Nachsorgepläne', 'Patientennummern', 'Externe Dienste'], 'no backup or installation navigation (the register of external services belongs to the organization admin)');
    await other.page.goto('/admin/backup');
    await other.page.waitForURL((url) => url.pathname === '/');
    await other.context.close();
  }, t.log);

  t.deepEqual(a11y, { page: [], error: [], afterRevoke: [], english: [] }, 'no serious or critical axe-core violations');
  t.deepEqual(o.cspViolations(), [], 'no Content-Security-Policy violation on any page');
  t.deepEqual(o.console.filter((l) => l.startsWith('pageerror')), [], 'no uncaught errors');
  await o.context.close();
});
