// The app header at 1366×900 (issue 12 polish): one calm row for every role — the daily work as
// top-level links, the administration in one "Verwaltung" disclosure menu, the own account in a
// second one. The menus work with the keyboard only (Enter/Space open, Tab reaches the links,
// Escape closes and returns the focus), mark the current page with aria-current, and are
// axe-clean open and closed. The header height per role is measured and logged.
import test from 'ava';
import type { Browser, Page } from 'playwright-core';
import { setupInstance, startTestApp, type TestApp } from '../helpers/app.ts';
import { axeViolations, launchBrowser, observedPage, screenshotOnFailure, seriousViolations } from '../helpers/browser.ts';
import { clientAs } from '../integration/patients-fixtures.ts';

let app: TestApp;
let browser: Browser;
let organizationId: string;
let operatorCookies: Map<string, string>;

test.before(async () => {
  app = await startTestApp();
  const setup = await setupInstance(app);
  organizationId = setup.organizationId;
  operatorCookies = setup.client.cookies;
  browser = await launchBrowser();
});
test.after.always(async () => {
  await browser?.close();
  await app?.stop();
  await app?.db.drop();
});

async function pageWith(cookies: Map<string, string>) {
  const o = await observedPage(browser, app.url);
  await o.page.setViewportSize({ width: 1366, height: 900 });
  await o.context.addCookies([
    { name: 'pk_session', value: cookies.get('pk_session')!, url: app.url },
    { name: 'pk_csrf', value: cookies.get('pk_csrf')!, url: app.url },
  ]);
  return o;
}

type El = { textContent: string | null; offsetParent: unknown; getBoundingClientRect(): { top: number; bottom: number; height: number }; contains(o: unknown): boolean; querySelectorAll(s: string): ArrayLike<El>; querySelector(s: string): El | null; id: string; getAttribute(n: string): string | null };
declare const document: { activeElement: El | null; querySelector(s: string): El | null };

/** Header height and how many distinct rows the header's items sit on (by their vertical centre). */
async function headerLayout(page: Page) {
  return page.evaluate(() => {
    const header = document.querySelector('.app-header')!;
    const items = Array.from(header.querySelectorAll('.brand, .main-nav > ul > li, .header-tools > *, .header-search')).filter((e) => e.offsetParent !== null);
    const rows = new Set(items.map((e) => Math.round((e.getBoundingClientRect().top + e.getBoundingClientRect().bottom) / 2 / 20)));
    const search = header.querySelector('.qs');
    const withoutSearch = new Set(items.filter((e) => !e.contains(search)).map((e) => Math.round((e.getBoundingClientRect().top + e.getBoundingClientRect().bottom) / 2 / 20)));
    return { height: Math.round(header.getBoundingClientRect().height), rows: rows.size, rowsWithoutSearch: withoutSearch.size };
  });
}

const nav = (page: Page) => page.getByRole('navigation', { name: 'Hauptnavigation' });

test('admin: one row; the Verwaltung menu works with the keyboard and marks the current page', async (t) => {
  const o = await pageWith(operatorCookies);
  const { page } = o;
  const a11y: Record<string, string[]> = {};
  await screenshotOnFailure(page, 'header-admin', async () => {
    await page.goto('/');
    await nav(page).getByRole('link', { name: 'Übersicht' }).waitFor();
    const layout = await headerLayout(page);
    t.log(`admin (operator) header at 1366×900: ${layout.height} px, ${layout.rows} row(s)`);
    t.is(layout.rowsWithoutSearch, 1, 'everything but the quick search in one row');
    t.true(layout.rows <= 2);
    t.deepEqual(await nav(page).getByRole('link').allTextContents(), ['Übersicht', 'Patienten', 'Kalender', 'Wartezimmer', 'Anreisen', 'Posteingang', 'Finanzen', 'Auswertungen']);
    a11y.closed = seriousViolations(await axeViolations(page));

    // Keyboard: focus the menu button, Enter opens, Tab reaches the first link, Escape closes.
    const button = nav(page).getByRole('button', { name: 'Verwaltung' });
    t.is(await button.getAttribute('aria-expanded'), 'false');
    await button.focus();
    await page.keyboard.press('Enter');
    t.is(await button.getAttribute('aria-expanded'), 'true');
    t.deepEqual(
      (await nav(page).getByRole('link').allTextContents()).slice(8),
      ['Benutzer', 'Protokoll', 'Fragebögen', 'Nachrichtenkanäle', 'Postausgang', 'KI-Vorbereitung', 'Nachsorgepläne', 'Patientennummern', 'Datensicherung', 'Externe Dienste', 'Installation'],
    );
    a11y.open = seriousViolations(await axeViolations(page));
    await page.keyboard.press('Tab');
    t.is(await page.evaluate(() => document.activeElement?.textContent), 'Benutzer', 'Tab reaches the first link of the menu');
    await page.keyboard.press('Escape');
    t.is(await button.getAttribute('aria-expanded'), 'false', 'Escape closes');
    t.is(await page.evaluate(() => document.activeElement?.getAttribute('aria-controls')), 'nav-admin-menu', 'the focus is back on the button');
    t.false(await nav(page).getByRole('link', { name: 'Benutzer' }).isVisible());

    // Space opens too; Enter on a link goes there; the page is marked current, and so is the button.
    await page.keyboard.press('Space');
    t.is(await button.getAttribute('aria-expanded'), 'true');
    await nav(page).getByRole('link', { name: 'Protokoll' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL('**/admin/audit');
    t.is(await button.getAttribute('aria-expanded'), 'false', 'choosing a link closes the menu');
    t.regex((await button.getAttribute('class')) ?? '', /nav-menu-current/);
    await button.click();
    t.is(await nav(page).getByRole('link', { name: 'Protokoll' }).getAttribute('aria-current'), 'page');
    t.is(await nav(page).locator('[aria-current="page"]').count(), 1, 'exactly one current page');
    // Tabbing out of the menu closes it.
    await nav(page).getByRole('link', { name: 'Installation' }).focus();
    await page.keyboard.press('Tab');
    t.is(await button.getAttribute('aria-expanded'), 'false', 'leaving the menu with the focus closes it');

    // The quick search shortcuts still reach #quick-search.
    await page.locator('body').press('/');
    t.is(await page.evaluate(() => document.activeElement?.id), 'quick-search');
    await page.keyboard.press('Escape');
    await page.locator('h1').first().click();
    await page.keyboard.press('F2');
    t.is(await page.evaluate(() => document.activeElement?.id), 'quick-search');

    // The account menu: the account page and both logouts.
    const account = page.getByRole('banner').getByRole('button', { name: /Angemeldet als/ });
    await account.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'Mein Konto' }).waitFor();
    t.true(await page.getByRole('button', { name: 'Abmelden', exact: true }).isVisible());
    t.true(await page.getByRole('button', { name: 'Auf allen Geräten abmelden' }).isVisible());
    a11y.account = seriousViolations(await axeViolations(page));
    await page.keyboard.press('Escape');
    t.is(await account.getAttribute('aria-expanded'), 'false');

    // English.
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('button', { name: 'Administration' }).waitFor();
    const en = await headerLayout(page);
    t.log(`admin header in English: ${en.height} px, ${en.rows} row(s)`);
    t.is(en.rowsWithoutSearch, 1);
    await page.getByRole('button', { name: 'Deutsch' }).click();
    await nav(page).waitFor();
  }, t.log);
  t.deepEqual(a11y, { closed: [], open: [], account: [] }, 'no serious or critical axe-core violations');
  t.deepEqual(o.cspViolations(), []);
  t.deepEqual(o.console.filter((l) => l.startsWith('pageerror')), []);
});

for (const role of ['staff', 'finance', 'doctor'] as const) {
  test(`${role}: the header is one row at 1366×900`, async (t) => {
    const client = await clientAs(app, organizationId, [role]);
    const o = await pageWith(client.cookies);
    await o.page.goto('/');
    await nav(o.page).getByRole('link', { name: 'Übersicht' }).waitFor();
    const layout = await headerLayout(o.page);
    const links = await nav(o.page).getByRole('link').allTextContents();
    const menu = await nav(o.page).getByRole('button', { name: 'Verwaltung' }).count();
    t.log(`${role} header at 1366×900: ${layout.height} px, ${layout.rows} row(s); links ${links.join(', ')}; Verwaltung menu: ${menu ? 'yes' : 'no'}`);
    t.is(layout.rowsWithoutSearch, 1, 'everything but the quick search in one row');
    t.true(layout.rows <= 2);
    t.deepEqual(seriousViolations(await axeViolations(o.page)), []);
    await o.context.close();
  });
}
