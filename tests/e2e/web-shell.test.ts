// The web shell in headless Chromium against the real server (which serves app/web/build, so
// `npm run build` comes first): first-run setup, the navigation frame, the language switch,
// logout and local sign-in with password + TOTP, and the user administration. Every page is
// checked with axe-core and for Content-Security-Policy violations in the console.
import anyTest, { type TestFn } from 'ava';
import type { Browser } from 'playwright-core';
import { ADMIN, currentTotp, type TestApp } from '../helpers/app.ts';
import { axeViolations, observedPage, screenshotOnFailure, seriousViolations } from '../helpers/browser.ts';
import { completeSetup, confirmRecoveryCodes, openAdminMenu, useAppAndBrowser } from './ui-steps.ts';

const test = anyTest as TestFn<{ app: TestApp; browser: Browser }>;

useAppAndBrowser(test);

test('first-run setup, language switch, logout and local sign-in with password + TOTP work in the browser', async (t) => {
  const { app, browser } = t.context;
  const o = await observedPage(browser, app.url);
  const { page } = o;
  const a11y: Record<string, string[]> = {};

  await screenshotOnFailure(page, 'web-shell', async () => {
    // Before setup, every URL leads to the setup page.
    await page.goto('/admin/users');
    await page.waitForURL('**/setup');
    await page.getByRole('heading', { level: 1, name: 'Praxiskern einrichten' }).waitFor();
    t.is(await page.locator('html').getAttribute('lang'), 'de', 'German is the default language');
    a11y.setup = seriousViolations(await axeViolations(page));

    // The passphrase warning is there before anything is submitted.
    t.regex((await page.locator('.alert-warning').textContent()) ?? '', /unwiederbringlich verloren/);

    const { totpSecret, recoveryCodes } = await completeSetup(page);
    t.regex(totpSecret, /^[A-Z2-7]{32}$/, 'the TOTP secret is shown for manual entry');
    t.true(recoveryCodes.length >= 5, `recovery codes are shown once (${recoveryCodes.length})`);
    t.true(await page.getByRole('button', { name: 'Weiter', exact: true }).isDisabled(), 'continuing needs the confirmation');

    await confirmRecoveryCodes(page);
    t.is(new URL(page.url()).pathname, '/');
    const header = page.getByRole('banner');
    await header.getByText(ADMIN.organizationName).waitFor();
    await header.getByText(ADMIN.adminDisplayName).waitFor();
    await page.getByRole('heading', { level: 1, name: `Willkommen, ${ADMIN.adminDisplayName}` }).waitFor();
    t.deepEqual(
      await page.getByRole('navigation', { name: 'Hauptnavigation' }).getByRole('link').allTextContents(),
      ['Übersicht', 'Patienten', 'Kalender', 'Wartezimmer', 'Anreisen', 'Posteingang', 'Finanzen', 'Auswertungen'],
      'the daily work as top-level links: overview, patients, calendar, waiting room, arrivals, inbox, finance, reports',
    );
    const adminNav = await openAdminMenu(page);
    t.deepEqual(
      (await adminNav.getByRole('link').allTextContents()).slice(8),
      ['Benutzer', 'Protokoll', 'Fragebögen', 'Nachrichtenkanäle', 'Postausgang', 'KI-Vorbereitung', 'Nachsorgepläne', 'Patientennummern', 'Datensicherung', 'Externe Dienste', 'Installation'],
      'the first admin (also the installation operator) finds users, audit log, questionnaires, messaging, outbox, AI, aftercare, backup, external services and installation in the Verwaltung menu',
    );
    await page.keyboard.press('Escape');

    // Switching to English changes the visible strings and <html lang>, and is kept in the profile.
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 1, name: `Welcome, ${ADMIN.adminDisplayName}` }).waitFor();
    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('button', { name: 'Administration' }).click();
    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Users' }).waitFor();
    t.is(await page.getByRole('button', { name: 'English' }).getAttribute('aria-pressed'), 'true');
    t.is(await page.locator('html').getAttribute('lang'), 'en');
    t.is(await page.getByText('Willkommen').count(), 0, 'no German text is left on the page');

    // Logout ends the session: the login page says so, and the app pages are closed.
    await page.getByRole('banner').getByRole('button', { name: /^Signed in as/ }).click();
    await page.getByRole('button', { name: 'Log out', exact: true }).click();
    await page.waitForURL('**/login?notice=logged_out');
    await page.getByRole('status').getByText('You have logged out.').waitFor();
    a11y.login = seriousViolations(await axeViolations(page));
    await page.goto('/admin/users');
    await page.waitForURL('**/login?next=%2Fadmin%2Fusers');

    // Local sign-in in two steps; a wrong code is refused without saying which part was wrong.
    await page.getByLabel('Username').fill(ADMIN.adminUsername);
    await page.getByLabel('Password').fill(ADMIN.adminPassword);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText(`Second factor for ${ADMIN.adminUsername}`).waitFor();
    const wrong = String((Number(currentTotp(totpSecret, 1)) + 500_000) % 1_000_000).padStart(6, '0');
    await page.getByLabel('Code from the authenticator app').fill(wrong);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('Username, password or code is wrong.').waitFor();
    t.is(await page.getByLabel('Password').inputValue(), '', 'the password must be entered again');

    await page.getByLabel('Password').fill(ADMIN.adminPassword);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Code from the authenticator app').fill(currentTotp(totpSecret, 1));
    await page.getByRole('button', { name: 'Sign in' }).click();

    // Back where the visitor wanted to go, still in English (the profile kept the language).
    await page.waitForURL('**/admin/users');
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    const row = page.getByRole('row').filter({ has: page.getByRole('rowheader', { name: new RegExp(ADMIN.adminDisplayName) }) });
    await row.waitFor();
    t.regex((await row.textContent()) ?? '', new RegExp(`${ADMIN.adminUsername}.*Local account.*Administration.*Active`, 's'));
    a11y.users = seriousViolations(await axeViolations(page));

    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('button', { name: 'Administration' }).click();
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    await page.getByRole('cell', { name: 'Sign-out', exact: true }).first().waitFor();
    a11y.audit = seriousViolations(await axeViolations(page));
  }, t.log);

  t.deepEqual(a11y, { setup: [], login: [], users: [], audit: [] }, 'no serious or critical axe-core violations');
  t.deepEqual(o.cspViolations(), [], 'no Content-Security-Policy violation on any page');
  t.deepEqual(o.console.filter((l) => l.startsWith('pageerror')), [], 'no uncaught errors');
  await o.context.close();
});
