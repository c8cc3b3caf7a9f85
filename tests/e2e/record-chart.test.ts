// The Karteikarte in headless Chromium (issue 12, items 2 and 8), keyboard only: open a record, add
// a timeline line without the mouse (it appears at the top, is announced, focus stays for the next
// line), pick an ICD-10-GM code from the imported catalogue in the diagnosis form, open both print
// views. axe-core on the record page (timeline), the diagnoses tab, the ICD admin page and both
// print views. Logs the page height at 1366×900: the timeline tab against all sections stacked.
import anyTest, { type TestFn } from 'ava';
import type { Browser, Page } from 'playwright-core';
import { type TestApp } from '../helpers/app.ts';
import { axeViolations, screenshotOnFailure, seriousViolations } from '../helpers/browser.ts';
import { Client } from '../helpers/http-client.ts';
import { claml } from '../helpers/icd-files.ts';
import { multipart, storeInbound } from '../integration/patients-fixtures.ts';
import { completeSetup, confirmRecoveryCodes, useAppAndBrowser } from './ui-steps.ts';

const test = anyTest as TestFn<{ app: TestApp; browser: Browser }>;

useAppAndBrowser(test);

const activeId = (page: Page) => page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id ?? '');
const scrollHeight = (page: Page) => page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollHeight: number } } }).document.documentElement.scrollHeight);

/** Presses Tab until the element with this id has the focus (keyboard only), at most `max` times. */
async function tabTo(page: Page, id: string | RegExp, max = 80): Promise<void> {
  for (let i = 0; i < max; i++) {
    const now = await activeId(page);
    if (typeof id === 'string' ? now === id : id.test(now)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached #${id}`);
}

test('the record as a Karteikarte: a line added by keyboard shows at the top, an ICD code is picked from the catalogue, print views', async (t) => {
  const { app, browser } = t.context;
  const context = await browser.newContext({ baseURL: app.url, locale: 'de-DE', viewport: { width: 1366, height: 900 } });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const a11y: Record<string, string[]> = {};

  await screenshotOnFailure(page, 'record-chart', async () => {
    await completeSetup(page);
    await confirmRecoveryCodes(page);
    const api = new Client(app.url);
    for (const c of await context.cookies()) api.cookies.set(c.name, c.value);
    const patient = (await api.post('/api/v1/patients', { givenName: 'Karla', familyName: 'Kartenreiter', sex: 'female', birthDate: '1975-06-30', phone: '+49 171 5551234' })).body.patient;
    const p = `/api/v1/patients/${patient.id}`;
    await api.post(`${p}/anamnesis`, { answers: { smoker: false, blood_thinners: true, blood_thinner_name: 'Marcumar', hair_status: 'norwood_2', allergies: ['Penicillin'] } });
    for (let i = 0; i < 3; i++) await api.post(`${p}/treatments`, { performedOn: '2026-11-0' + (i + 1), type: 'Kontrolle', description: `Sitzung ${i + 1}` });
    await api.post(`${p}/consents`, { purpose: 'health_data', action: 'granted', textVersion: 'v1', channel: 'paper' });
    const organizationId = (await api.get('/api/v1/session')).body.user.organizationId as string;
    await storeInbound(app, organizationId, patient.id, 'image', { type: 'image', text: null, media: { id: 'wamid-e2e-1', mimeType: 'image/jpeg', caption: 'Foto vom Hinterkopf' } });

    // An operator imports the catalogue in the admin page (file upload), checked with axe.
    await page.goto('/admin/installation');
    await page.getByRole('link', { name: 'ICD-10-GM-Katalog' }).click();
    await page.getByRole('heading', { level: 1, name: 'ICD-10-GM-Katalog' }).waitFor();
    await page.getByText('Noch kein Katalog importiert.').waitFor();
    const full = claml();
    await page.getByLabel('Datei des BfArM').setInputFiles({ name: 'icd10gm2026syst_claml_20250912.xml', mimeType: 'application/xml', buffer: Buffer.from(full.slice(0, full.length / 2)) });
    await page.getByRole('button', { name: 'Importieren' }).click();
    await page.getByRole('alert').getByText(/Die Datei ist in Zeile \d+ fehlerhaft oder abgeschnitten; es wurde nichts importiert\./).waitFor();
    await page.getByLabel('Datei des BfArM').setInputFiles({ name: 'icd10gm2026syst_claml_20250912.xml', mimeType: 'application/xml', buffer: Buffer.from(full) });
    await page.getByRole('button', { name: 'Importieren' }).click();
    await page.getByText('ICD-10-GM 2026 importiert: 11 Kodes.').waitFor();
    a11y.icdAdmin = seriousViolations(await axeViolations(page));

    // The record opens on the Karteikarte with the sticky header's CAVE flags and consent state.
    const timelineCalls: string[] = [];
    const onTimeline = (r: { url(): string }) => {
      if (new URL(r.url()).pathname.endsWith('/timeline')) timelineCalls.push(r.url());
    };
    page.on('request', onTimeline);
    await page.goto(`/patients/${patient.id}`);
    await page.getByRole('heading', { level: 1, name: 'Karla Kartenreiter' }).waitFor();
    const header = page.getByRole('region', { name: 'Patientenkopf' });
    await header.getByText('Allergien: Penicillin').waitFor();
    await header.getByText('Blutverdünner: Marcumar').waitFor();
    await header.getByText('Einwilligung Gesundheitsdaten: erteilt').waitFor();
    await page.locator('.timeline-list li').first().waitFor();
    // What the patient wrote over WhatsApp is a line of its own: a photo's caption (the photo stays in the inbox).
    t.regex((await page.locator('.timeline-list li.tl-message_in').textContent()) ?? '', /Nachricht des Patienten\s*Bild · Foto vom Hinterkopf/);
    const timelineHeight = await scrollHeight(page);
    a11y.timeline = seriousViolations(await axeViolations(page));
    page.off('request', onTimeline);
    // One request per opening: the answer must not trigger the next one (a reactive loop did).
    t.is(timelineCalls.length, 1, `timeline requests while the record was open: ${timelineCalls.length}`);

    // Keyboard only: Tab to the quick entry, choose "Befund", type, Enter.
    await tabTo(page, 'quick-kind');
    await page.keyboard.press('ArrowDown'); // Notiz → Befund
    await page.keyboard.press('Tab');
    t.is(await activeId(page), 'quick-text');
    await page.keyboard.type('Kopfhaut reizlos, keine Rötung');
    await page.keyboard.press('Enter');
    const first = page.locator('.timeline-list li').first();
    await first.getByText('Kopfhaut reizlos, keine Rötung').waitFor();
    t.regex((await first.textContent()) ?? '', /Befund/);
    await page.getByRole('status').filter({ hasText: 'Zeile hinzugefügt: Kopfhaut reizlos, keine Rötung' }).waitFor({ state: 'attached' });
    t.is(await activeId(page), 'quick-text', 'focus stays in the line for the next entry');
    t.is(await page.locator('#quick-text').inputValue(), '');

    // A diagnosis line by keyboard too ("code text").
    await page.keyboard.press('Shift+Tab');
    t.is(await activeId(page), 'quick-kind');
    await page.keyboard.press('ArrowDown'); // Befund → Diagnose
    t.is(await page.locator('#quick-kind').inputValue(), 'diagnosis');
    await page.keyboard.press('Tab');
    await page.keyboard.type('M54.5 Kreuzschmerz');
    await page.keyboard.press('Enter');
    await first.getByText('M54.5 Kreuzschmerz').waitFor();

    // Tabs by keyboard: ArrowRight from the Karteikarte to Diagnosen (Stammdaten, Anamnese, Diagnosen).
    await tabTo(page, 'tab-timeline');
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    t.is(await activeId(page), 'tab-diagnoses');
    t.true(page.url().endsWith('#diagnoses'), 'the tab is an anchor');
    const dx = page.locator('#diagnoses');
    const add = dx.getByRole('button', { name: 'Diagnose hinzufügen' });
    for (let i = 0; i < 10 && !(await add.evaluate((el) => el === (el as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement)); i++) await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await tabTo(page, /-code$/, 3); // the form focuses its first field: the code combobox
    await page.keyboard.type('näher alopecia');
    const option = page.getByRole('option', { name: /L64\.9 Alopecia androgenetica, nicht näher bezeichnet/ });
    await option.waitFor();
    t.is(await option.getAttribute('aria-selected'), 'true');
    a11y.icdCombobox = seriousViolations(await axeViolations(page));
    await page.keyboard.press('Enter');
    const code = dx.getByRole('combobox', { name: 'ICD-10-GM-Code' });
    t.is(await code.inputValue(), 'L64.9');
    await page.keyboard.press('Tab');
    t.is(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { value: string } } }).document.activeElement.value), 'Alopecia androgenetica, nicht näher bezeichnet', 'the text came with the code');
    await page.keyboard.press('Enter');
    await dx.locator('.entry-main').filter({ hasText: 'L64.9' }).waitFor();

    // Page height: the Karteikarte tab against every section stacked (what the record was before).
    let stacked = 0;
    for (const tab of ['Stammdaten', 'Anamnese', 'Diagnosen', 'Behandlungsverlauf', 'Behandlungspläne', 'Termine', 'Nachsorge', 'Dokumente und Fotos', 'Einwilligungen', 'Nachrichten', 'Zugriffsprotokoll', 'Datenschutzrechte (DSGVO)']) {
      await page.getByRole('tab', { name: tab }).click();
      await page.locator('.record-panel > *').first().waitFor();
      stacked += await page.locator('.record-panel').evaluate((el) => (el as unknown as { offsetHeight: number }).offsetHeight);
    }
    t.log(`record page height at 1366×900: timeline tab ${timelineHeight} px; all sections stacked ≈ ${stacked} px (+ header)`);

    // Print views, both reachable from the record's header.
    await page.getByRole('tab', { name: 'Karteikarte' }).click();
    await header.getByRole('link', { name: 'Übersicht drucken' }).click();
    await page.getByRole('heading', { level: 1, name: 'Aktenübersicht: Karla Kartenreiter' }).waitFor();
    await page.getByRole('cell', { name: 'Alopecia androgenetica, nicht näher bezeichnet' }).waitFor();
    await page.getByText('Penicillin').waitFor();
    a11y.printSummary = seriousViolations(await axeViolations(page));
    await page.emulateMedia({ media: 'print' });
    t.false(await page.locator('.app-header').isVisible(), 'no navigation chrome in print');
    await page.emulateMedia({ media: 'screen' });
    await page.goto(`/patients/${patient.id}`);
    await page.getByRole('region', { name: 'Patientenkopf' }).getByRole('link', { name: 'Einwilligungsformular' }).click();
    await page.getByRole('heading', { level: 1, name: 'Einwilligungserklärung: Verarbeitung von Gesundheitsdaten' }).waitFor();
    await page.getByText('30.06.1975').waitFor();
    await page.getByText('Unterschrift Patient/in').waitFor();
    a11y.consentForm = seriousViolations(await axeViolations(page));
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 1, name: 'Declaration of consent: Processing of health data' }).waitFor().catch(() => undefined);
    await page.getByText('Signature of the patient').waitFor();
    await page.getByText('30/06/1975').waitFor();
  }, t.log);

  t.deepEqual(errors, []);
  t.deepEqual(a11y, { icdAdmin: [], timeline: [], icdCombobox: [], printSummary: [], consentForm: [] }, 'no serious or critical axe-core violations');
  await context.close();
});
