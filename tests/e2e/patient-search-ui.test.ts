// Issue 12 in Chromium, keyboard only: from another page "/" opens the quick search, typing a name
// shows matches with age, birth date, phone and patient number, ArrowDown + Enter opens the record;
// F2 and the exact patient number do the same; Escape closes. The patient list is focused on load,
// searches as you type and fits many rows above the fold at 1366×900 (logged). The start page
// answers from one API request (counted) and shows the recently opened patient. axe-core on the
// start page, the patient list and the open quick search; a screenshot set of the main pages at
// 1366×900 and 1920×1080 is written to test-artifacts/screenshots/ (gitignored).
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import anyTest, { type TestFn } from 'ava';
import type { Browser, Page } from 'playwright-core';
import { runWithContext, systemContext } from '../../app/api/src/core/context.ts';
import { generateDemoPatients } from '../../app/api/src/modules/patients/demo-data.service.ts';
import { createPatient } from '../../app/api/src/modules/patients/patient.service.ts';
import { type TestApp } from '../helpers/app.ts';
import { axeViolations, observedPage, screenshotOnFailure, seriousViolations } from '../helpers/browser.ts';
import { ownerQuery } from '../integration/patients-fixtures.ts';
import { completeSetup, confirmRecoveryCodes, useAppAndBrowser } from './ui-steps.ts';

const test = anyTest as TestFn<{ app: TestApp; browser: Browser }>;
const SHOTS = path.resolve('test-artifacts/screenshots');
const DEMO = 300;

useAppAndBrowser(test);

/** The little of the DOM the test reads in the page (the test tsconfig has no DOM types). */
declare const document: { activeElement: { id: string } | null; querySelectorAll(s: string): ArrayLike<{ getBoundingClientRect(): { top: number; bottom: number } }> };
declare const window: { innerHeight: number };

const rowsAboveFold = (page: Page) => page.evaluate(() =>
  Array.from(document.querySelectorAll('.patients-table tbody tr')).filter((r) => r.getBoundingClientRect().bottom <= window.innerHeight).length);

test('quick search by keyboard from any page, the compact list, the start page, and the screenshot set', async (t) => {
  const { app, browser } = t.context;
  const o = await observedPage(browser, app.url);
  const { page } = o;
  await page.setViewportSize({ width: 1366, height: 900 });
  const a11y: Record<string, string[]> = {};

  await screenshotOnFailure(page, 'patient-search', async () => {
    await completeSetup(page);
    await confirmRecoveryCodes(page);

    // Data: demo patients plus three known ones, through the services as the admin.
    const [admin] = await ownerQuery<{ id: string; organization_id: string }>(app.db.ownerUrl, 'select id, organization_id from users limit 1');
    const actor = { userId: admin.id, organizationId: admin.organization_id, roles: ['admin' as const], sessionId: admin.id };
    const known = await runWithContext(systemContext('e2e', actor), async () => {
      await generateDemoPatients(app.services, DEMO);
      const make = (givenName: string, familyName: string, birthDate: string, extra: Record<string, string> = {}) =>
        createPatient(app.services, { givenName, familyName, sex: 'female', birthDate, phone: '+49 171 5550199', allowDuplicate: true, ...extra } as never);
      return {
        target: await make('Quirina', 'Zaunkönig', '1979-02-11', { patientNumber: 'PK-4711', insuranceType: 'statutory', insurer: 'AOK Nordost', insuranceNumber: 'A123456780' }),
        sibling: await make('Anselma', 'Zaunkönig', '1985-07-30'),
        other: await make('Berit', 'Zaunmayer', '1990-12-01', { patientNumber: 'PK-0815' }),
      };
    });

    // The patient list: focused on load, many rows above the fold, searching as you type.
    await page.getByRole('navigation', { name: 'Hauptnavigation' }).getByRole('link', { name: 'Patienten' }).click();
    await page.locator('.patients-table tbody tr').first().waitFor();
    t.is(await page.evaluate(() => document.activeElement?.id), 'patient-search', 'the search box has the focus on load');
    const rows = await rowsAboveFold(page);
    t.log(`patient list at 1366×900: ${rows} rows above the fold (issue 12 measured 5 before)`);
    t.true(rows >= 15, `at least 15 rows above the fold, got ${rows}`);
    a11y.list = seriousViolations(await axeViolations(page));
    const listSearch = page.waitForResponse((r) => r.url().endsWith('/api/v1/patients/search') && r.request().postDataJSON()?.q === 'Zaun');
    await page.keyboard.type('Zaun');
    await listSearch;
    await page.getByRole('status').getByText(/1–3 von 3 · nach Name sortiert/).waitFor();
    t.deepEqual(await page.locator('.patients-table .patient-link').allTextContents(), ['Zaunkönig, Anselma', 'Zaunkönig, Quirina', 'Zaunmayer, Berit'], 'a small matched set is sorted by name');
    t.false(decodeURIComponent(page.url()).includes('Zaun'), 'the search text is not in the URL');
    a11y.listSearch = seriousViolations(await axeViolations(page));

    // From another page: "/" → type a name → ArrowDown → Enter opens the record.
    await page.getByRole('navigation', { name: 'Hauptnavigation' }).getByRole('link', { name: 'Kalender' }).click();
    await page.waitForURL((u) => u.pathname === '/appointments');
    await page.getByRole('heading', { level: 1 }).waitFor();
    await page.locator('body').press('/');
    t.is(await page.evaluate(() => document.activeElement?.id), 'quick-search', '"/" focuses the quick search');
    await page.keyboard.type('Quirina Zaun');
    const listbox = page.getByRole('listbox', { name: 'Gefundene Patienten' });
    const option = listbox.getByRole('option', { name: /Zaunkönig, Quirina/ });
    await option.waitFor();
    const text = (await option.textContent()) ?? '';
    for (const part of ['11.02.1979', 'Nr. PK-4711', '+49 171 5550199', ' J.']) t.true(text.includes(part), `the option shows ${part}: ${text}`);
    a11y.quickSearch = seriousViolations(await axeViolations(page));
    await page.keyboard.press('ArrowDown');
    t.is(await option.getAttribute('aria-selected'), 'true');
    t.is(await page.locator('#quick-search').getAttribute('aria-activedescendant'), await option.getAttribute('id'));
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname === `/patients/${known.target.id}`);
    await page.getByRole('heading', { level: 1, name: /Quirina Zaunkönig/ }).waitFor();

    // F2 from the record, the exact patient number (case ignored), ArrowDown, Enter.
    await page.keyboard.press('F2');
    t.is(await page.evaluate(() => document.activeElement?.id), 'quick-search', 'F2 focuses the quick search');
    await page.keyboard.type('pk-0815');
    await listbox.getByRole('option', { name: /Zaunmayer, Berit/ }).waitFor();
    t.is(await listbox.getByRole('option').count(), 1);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.pathname === `/patients/${known.other.id}`);
    await page.getByRole('heading', { level: 1, name: /Berit Zaunmayer/ }).waitFor();

    // Escape closes the results; "/" typed inside a text field stays a character.
    await page.keyboard.press('F2');
    await page.keyboard.type('Zaunk');
    await listbox.getByRole('option').first().waitFor();
    await page.keyboard.press('Escape');
    await listbox.waitFor({ state: 'hidden' });
    t.is(await page.locator('#quick-search').getAttribute('aria-expanded'), 'false');
    const slashSearch = page.waitForResponse((r) => r.url().endsWith('/api/v1/patients/search') && r.request().postDataJSON()?.q === 'Zaunk/');
    await page.keyboard.type('/');
    t.is(await page.locator('#quick-search').inputValue(), 'Zaunk/', 'inside the field "/" is typed, not a shortcut');
    await slashSearch;
    await page.keyboard.press('Escape');
    await page.keyboard.press('Escape');
    t.is(await page.locator('#quick-search').inputValue(), '', 'a second Escape clears the field');

    // The start page: one API request (a full load adds the app shell's session and setup checks).
    const apiCalls: string[] = [];
    const onRequest = (r: { url(): string }) => {
      if (new URL(r.url()).pathname.startsWith('/api/')) apiCalls.push(new URL(r.url()).pathname);
    };
    page.on('request', onRequest);
    await page.getByRole('navigation', { name: 'Hauptnavigation' }).getByRole('link', { name: 'Übersicht' }).click();
    const recent = page.getByRole('region', { name: 'Zuletzt geöffnete Patienten' });
    await recent.getByRole('link', { name: 'Zaunmayer, Berit' }).waitFor();
    t.deepEqual(apiCalls, ['/api/v1/home'], 'navigating to the start page asks the server once');
    apiCalls.length = 0;
    await page.goto('/');
    await recent.getByRole('link', { name: 'Zaunmayer, Berit' }).waitFor();
    page.off('request', onRequest);
    t.log(`start page: 1 API request when navigated to; a full load: ${apiCalls.length} (${apiCalls.join(', ')})`);
    t.deepEqual(apiCalls.filter((p) => !['/api/v1/session', '/api/v1/setup', '/api/v1/seal'].includes(p)), ['/api/v1/home'], 'besides the app shell\'s checks, one request');
    t.deepEqual(await recent.getByRole('link').allTextContents().then((l) => l.slice(0, 2)), ['Zaunmayer, Berit', 'Zaunkönig, Quirina']);
    await page.getByRole('region', { name: 'Datensicherung' }).waitFor();
    await page.getByRole('region', { name: /^Heute/ }).waitFor();
    a11y.start = seriousViolations(await axeViolations(page));

    // The screenshot set.
    mkdirSync(SHOTS, { recursive: true });
    const pages: [string, string][] = [
      ['start', '/'], ['patients', '/patients'], ['record', `/patients/${known.target.id}`], ['calendar', '/appointments'],
      ['inbox', '/inbox'], ['admin-users', '/admin/users'], ['backup', '/admin/backup'],
    ];
    const written: string[] = [];
    for (const [width, height] of [[1366, 900], [1920, 1080]]) {
      await page.setViewportSize({ width, height });
      for (const [name, url] of pages) {
        await page.goto(url);
        await page.getByRole('heading', { level: 1 }).first().waitFor();
        await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached' }).catch(() => undefined);
        const file = path.join(SHOTS, `${name}-${width}x${height}.png`);
        await page.screenshot({ path: file, fullPage: false });
        t.true(statSync(file).size > 1000, `${file} is not empty`);
        written.push(file);
      }
    }
    t.log(`screenshots:\n${written.join('\n')}`);
    t.is(written.length, 14);
  }, t.log);

  t.deepEqual(a11y, { list: [], listSearch: [], quickSearch: [], start: [] }, 'no serious or critical axe-core violations');
  t.deepEqual(o.cspViolations(), [], 'no Content-Security-Policy violation');
  t.deepEqual(o.console.filter((l) => l.startsWith('pageerror')), [], 'no uncaught errors');
  await o.context.close();
});
