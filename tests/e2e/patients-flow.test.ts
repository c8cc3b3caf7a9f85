// The patient record in headless Chromium against the real server (which serves app/web/build,
// so `npm run build` comes first): create a patient (with a server field error and the duplicate
// warning), fill the anamnesis, upload a photo whose EXIF/GPS the server strips, record a consent,
// restrict and lift, object, export as JSON, and hard-delete inside the retention period with an
// override. List and record pages are checked with axe-core; no CSP violation may appear.
import { readFileSync } from 'node:fs';
import anyTest, { type TestFn } from 'ava';
import type { Browser, Page } from 'playwright-core';
import { type TestApp } from '../helpers/app.ts';
import { axeViolations, observedPage, screenshotOnFailure, seriousViolations } from '../helpers/browser.ts';
import { completeSetup, confirmRecoveryCodes, useAppAndBrowser } from './ui-steps.ts';

const test = anyTest as TestFn<{ app: TestApp; browser: Browser }>;

useAppAndBrowser(test);

const PATIENT = { givenName: 'Wiebke', familyName: 'Quellenhagen', birthDate: '1984-03-14', phone: '+49 171 5550123', email: 'wiebke.q@example.org' };
const NAME = `${PATIENT.givenName} ${PATIENT.familyName}`;
/** A string that only the photo's EXIF carries: it must not survive the upload. */
const EXIF_MARKER = 'PK-CAMERA-SERIAL-4711';

/**
 * A real 8×8 grey baseline JPEG, built by hand: SOI, an EXIF APP1 segment whose IFD0 holds a
 * camera serial (tag 0xA431) and a GPS IFD (N 52° 31'), one quantization table, SOF0, two
 * one-symbol Huffman tables, one scan (DC 0, end of block) and EOI.
 */
function jpegWithGps(): Buffer {
  const u16 = (n: number) => [n & 0xff, (n >> 8) & 0xff];
  const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
  const serial = [...Buffer.from(`${EXIF_MARKER}\0`, 'latin1')];
  // TIFF, little-endian. IFD0 at 8 with two entries (GPS pointer, serial), GPS IFD after it.
  const ifd0At = 8;
  const ifd0Size = 2 + 2 * 12 + 4;
  const gpsAt = ifd0At + ifd0Size;
  const gpsSize = 2 + 2 * 12 + 4;
  const ratAt = gpsAt + gpsSize;
  const serialAt = ratAt + 24;
  const tiff = [
    0x49, 0x49, 0x2a, 0x00, ...u32(ifd0At),
    ...u16(2),
    ...u16(0x8825), ...u16(4), ...u32(1), ...u32(gpsAt), // GPSInfo IFD pointer
    ...u16(0xa431), ...u16(2), ...u32(serial.length), ...u32(serialAt), // BodySerialNumber
    ...u32(0),
    ...u16(2),
    ...u16(0x0001), ...u16(2), ...u32(2), 0x4e, 0x00, 0x00, 0x00, // GPSLatitudeRef "N"
    ...u16(0x0002), ...u16(5), ...u32(3), ...u32(ratAt), // GPSLatitude 52/1 31/1 0/1
    ...u32(0),
    ...u32(52), ...u32(1), ...u32(31), ...u32(1), ...u32(0), ...u32(1),
    ...serial,
  ];
  const app1 = [...Buffer.from('Exif\0\0', 'latin1'), ...tiff];
  const seg = (marker: number, body: number[]) => [0xff, marker, ((body.length + 2) >> 8) & 0xff, (body.length + 2) & 0xff, ...body];
  return Buffer.from([
    0xff, 0xd8,
    ...seg(0xe1, app1),
    ...seg(0xdb, [0x00, ...new Array(64).fill(1)]),
    ...seg(0xc0, [8, 0, 8, 0, 8, 1, 1, 0x11, 0]),
    ...seg(0xc4, [0x00, 1, ...new Array(15).fill(0), 0x00]),
    ...seg(0xc4, [0x10, 1, ...new Array(15).fill(0), 0x00]),
    ...seg(0xda, [1, 1, 0x00, 0, 63, 0]),
    0x3f, // DC: category 0 ("0"), AC: end of block ("0"), padded with ones
    0xff, 0xd9,
  ]);
}

/** Full-page screenshots for a human look, only when PRAXISKERN_E2E_SCREENSHOTS names a directory. */
async function shot(page: Page, name: string): Promise<void> {
  const dir = process.env.PRAXISKERN_E2E_SCREENSHOTS;
  if (dir) await page.screenshot({ path: `${dir}/patients-${name}.png`, fullPage: true });
}

/** The little of the DOM the test reads in the page (the test tsconfig has no DOM types). */
interface ImageDocument {
  querySelector(selector: string): { complete: boolean; naturalWidth: number } | null;
}

/** Searches through the form; the terms go in a POST body and never into the page's or any request's URL. */
async function searchFor(page: Page, text: string): Promise<void> {
  // The list searches as you type (issue 12): filling the box sends one POST after the debounce.
  const response = page.waitForResponse((r) => r.url().endsWith('/api/v1/patients/search') && r.request().method() === 'POST' && r.request().postDataJSON()?.q === text);
  await page.locator('#patient-search').fill(text);
  const sent = (await response).request();
  if (sent.postDataJSON()?.q !== text) throw new Error('the search text was not sent in the POST body');
  if (decodeURIComponent(page.url()).includes(text)) throw new Error(`the search text is in the page URL: ${page.url()}`);
}

test('a patient is created, documented, exported and erased for good through the browser', async (t) => {
  const { app, browser } = t.context;
  const o = await observedPage(browser, app.url);
  const { page } = o;
  const a11y: Record<string, string[]> = {};
  const photo = jpegWithGps();
  t.true(photo.includes(Buffer.from(EXIF_MARKER)), 'the test photo carries EXIF');

  await screenshotOnFailure(page, 'patients-flow', async () => {
    await completeSetup(page);
    await confirmRecoveryCodes(page);

    // "Patienten" in the frame leads to the (empty) list with the search explained.
    await page.getByRole('navigation', { name: 'Hauptnavigation' }).getByRole('link', { name: 'Patienten' }).click();
    await page.getByRole('heading', { level: 1, name: 'Patienten' }).waitFor();
    await page.getByText('Noch keine Patienten angelegt.').waitFor();
    t.regex((await page.locator('#patient-search-hint').textContent()) ?? '', /Wortanfang/);
    a11y.emptyList = seriousViolations(await axeViolations(page));
    await shot(page, '1-empty-list');

    // Create: the server's field error appears next to the field, then the patient is created.
    await page.getByRole('link', { name: 'Patient anlegen' }).click();
    await page.getByRole('heading', { level: 1, name: 'Patient anlegen' }).waitFor();
    await page.getByLabel('Vorname').fill(PATIENT.givenName);
    await page.getByLabel('Nachname').fill(PATIENT.familyName);
    await page.getByLabel('Geschlecht').selectOption('female');
    await page.getByLabel('Geburtsdatum').fill(PATIENT.birthDate);
    await page.locator('#new-patient-phone').fill('12345');
    await page.getByLabel(/^E-Mail-Adresse/).fill(PATIENT.email);
    await page.getByRole('button', { name: 'Patient anlegen' }).click();
    const phone = page.locator('#new-patient-phone');
    await page.locator('#new-patient-phone-error').getByText('Bitte eine Telefonnummer eingeben').waitFor();
    t.is(await phone.getAttribute('aria-invalid'), 'true');
    t.is(await page.locator('#new-patient-phone:focus').count(), 1, 'the invalid field gets the focus');
    await shot(page, '2-create-field-error');
    await phone.fill(PATIENT.phone);
    await page.getByRole('button', { name: 'Patient anlegen' }).click();
    await page.getByRole('heading', { level: 1, name: NAME }).waitFor();
    const recordUrl = page.url();

    // The same person again: the duplicate warning names the existing record and offers it.
    await page.getByRole('link', { name: 'Zur Patientenliste' }).click();
    await page.getByRole('link', { name: 'Patient anlegen' }).click();
    await page.getByLabel('Vorname').fill(PATIENT.givenName);
    await page.getByLabel('Nachname').fill(PATIENT.familyName);
    await page.getByLabel('Geschlecht').selectOption('female');
    await page.getByLabel('Geburtsdatum').fill(PATIENT.birthDate);
    await page.getByRole('button', { name: 'Patient anlegen' }).click();
    const dup = page.getByRole('region', { name: 'Möglicherweise schon vorhanden' });
    await dup.getByText(NAME, { exact: true }).waitFor();
    await dup.getByRole('button', { name: 'Trotzdem neu anlegen' }).waitFor();
    await shot(page, '3-duplicate');
    await dup.getByRole('link', { name: /Akte öffnen/ }).click();
    await page.waitForURL(recordUrl);
    await page.getByRole('heading', { level: 1, name: NAME }).waitFor();

    // Anamnesis, rendered from the server's questionnaire; allergies make it "needs review".
    await page.getByRole('tab', { name: 'Anamnese' }).click();
    const anamnesis = page.locator('#anamnesis');
    await anamnesis.getByText('Noch keine Anamnese erfasst.').waitFor();
    await anamnesis.getByRole('button', { name: 'Anamnese erfassen' }).click();
    await anamnesis.getByRole('group', { name: 'Raucher', exact: true }).getByLabel('Ja').check();
    await anamnesis.getByLabel(/^Zigaretten pro Tag/).fill('5');
    await anamnesis.getByRole('group', { name: 'Blutverdünner', exact: true }).getByLabel('Nein').check();
    await anamnesis.getByLabel(/^Haarstatus/).selectOption('norwood_3');
    await anamnesis.getByLabel(/^Allergien/).fill('Penicillin');
    await anamnesis.getByRole('button', { name: 'Anamnese speichern' }).click();
    await anamnesis.getByRole('status').getByText('Anamnese gespeichert.').waitFor();
    await anamnesis.locator('.status-pill').getByText('Prüfung nötig').waitFor();
    await anamnesis.getByText('Allergien angegeben').waitFor();
    t.regex((await anamnesis.locator('.facts').textContent()) ?? '', /Penicillin/);

    // A photo with EXIF/GPS: the upload reports what was removed, the gallery shows it.
    await page.getByRole('tab', { name: 'Dokumente und Fotos' }).click();
    const docs = page.locator('#documents');
    await docs.getByLabel('Datei').setInputFiles({ name: 'kopf-gps.jpg', mimeType: 'image/jpeg', buffer: photo });
    await docs.getByLabel('Kategorie').selectOption('front');
    await docs.getByRole('button', { name: 'Hochladen' }).click();
    await docs.getByRole('status').getByText(/„kopf-gps\.jpg“ hochgeladen\. Entfernte Metadaten: APP1\./).waitFor();
    const thumb = docs.locator('.gallery img').first();
    await thumb.waitFor();
    // (Functions, not strings: a string predicate would need eval, which the app's CSP forbids.)
    await page.waitForFunction(() => {
      const img = (globalThis as unknown as { document: ImageDocument }).document.querySelector('#documents .gallery img');
      return img !== null && img.complete && img.naturalWidth > 0;
    });
    t.is(await thumb.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), 8, 'the gallery shows the decoded 8×8 photo');
    const contentUrl = (await thumb.getAttribute('src')) ?? '';
    t.regex(contentUrl, /^\/api\/v1\/patients\/[0-9a-f-]+\/documents\/[0-9a-f-]+\/content$/);

    // The viewer opens as a modal dialog and closes with Escape, focus back on the thumbnail.
    await docs.getByRole('button', { name: /Vorderansicht/ }).click();
    const viewer = page.getByRole('dialog', { name: /Ansicht: kopf-gps\.jpg/ });
    await viewer.getByRole('img').waitFor();
    await shot(page, '4-viewer');
    await viewer.getByRole('button', { name: 'Um 90° drehen' }).click();
    await viewer.locator('img.rotate-90').waitFor({ timeout: 5000 });
    t.true(await viewer.locator('img.rotate-90').isVisible());
    await page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'hidden' });
    t.is(await docs.locator('.gallery-item:focus').count(), 1, 'focus returns to the opener');

    // The stored file, downloaded through the API: still a JPEG, without the EXIF segment.
    const stored = await page.request.get(`${contentUrl}?download=1`);
    t.is(stored.status(), 200);
    const bytes = await stored.body();
    t.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xd8], 'still a JPEG');
    t.false(bytes.includes(Buffer.from('Exif\0\0', 'latin1')), 'no EXIF header left');
    t.false(bytes.includes(Buffer.from(EXIF_MARKER)), 'no camera serial left');
    t.false(bytes.includes(Buffer.from([0xff, 0xe1])), 'no APP1 segment left');
    t.is(bytes.length, photo.length - (photo.readUInt16BE(4) + 2), 'exactly the APP1 segment was removed');

    // Removing a photo hides it with a reason; it stays stored, and the admin sees and restores it.
    await docs.getByRole('button', { name: /Vorderansicht/ }).click();
    await viewer.getByRole('button', { name: 'Entfernen' }).click();
    await viewer.getByRole('button', { name: 'Entfernen' }).click();
    await viewer.locator('#remove-reason-' + contentUrl.split('/').at(-2) + '-error').getByText('Bitte einen Grund angeben.').waitFor();
    await viewer.getByLabel('Grund', { exact: true }).fill('Falscher Patient');
    await viewer.getByRole('button', { name: 'Entfernen' }).click();
    await viewer.waitFor({ state: 'hidden' });
    await docs.getByRole('status').getByText('Aus der Akte ausgeblendet. Das Dokument bleibt gespeichert.').waitFor();
    // The notice comes first, the reloaded list right after it: wait for the list (with the deadline).
    await docs.locator('.gallery img').first().waitFor({ state: 'detached' });
    t.is(await docs.locator('.gallery img').count(), 0, 'the photo left the gallery');
    await docs.getByRole('button', { name: 'Entfernte Dokumente anzeigen' }).click();
    const removedList = docs.locator('#removed-documents-list');
    await removedList.getByText(/Entfernt am .* Grund: Falscher Patient/).waitFor();
    await shot(page, '4b-removed-documents');
    await removedList.getByRole('button', { name: /^Wiederherstellen/ }).click();
    await docs.getByRole('status').getByText('„kopf-gps.jpg“ ist wieder in der Akte.').waitFor();
    await docs.locator('.gallery img').first().waitFor();
    await removedList.getByText('Keine entfernten Dokumente.').waitFor();

    // Consent for health data, with text version and channel, in the state and the log.
    await page.getByRole('tab', { name: 'Einwilligungen' }).click();
    const consents = page.locator('#consents');
    const healthRow = consents.locator('tr[data-purpose="health_data"]');
    await healthRow.getByRole('button', { name: /Erteilen/ }).click();
    const consentDialog = page.getByRole('dialog', { name: 'Verarbeitung von Gesundheitsdaten: erteilt' });
    await consentDialog.getByLabel('Version des Einwilligungstextes').fill('2026-01');
    await consentDialog.getByLabel('Weg der Erklärung').selectOption('paper');
    await consentDialog.getByRole('button', { name: 'Erfassen' }).click();
    await consentDialog.waitFor({ state: 'hidden' });
    await consents.getByRole('status').getByText('Verarbeitung von Gesundheitsdaten: erteilt.').waitFor();
    // The row re-renders after the reload that follows the status message: wait for it, then assert.
    await healthRow.filter({ hasText: 'Papier' }).waitFor();
    t.regex((await healthRow.textContent()) ?? '', /erteilt.*2026-01.*Papier/s);
    await healthRow.getByRole('button', { name: /Widerrufen/ }).waitFor();

    // A treatment entry starts the retention period (asserted at the hard delete below).
    await page.getByRole('tab', { name: 'Behandlungsverlauf' }).click();
    const treatments = page.locator('#treatments');
    await treatments.getByRole('button', { name: 'Eintrag hinzufügen' }).click();
    await treatments.getByLabel('Art der Behandlung').fill('Beratung');
    await treatments.getByLabel('Beschreibung').fill('Erstgespräch, Fotodokumentation');
    await treatments.getByRole('button', { name: 'Eintrag hinzufügen' }).click();
    await treatments.getByText('Erstgespräch, Fotodokumentation').waitFor();

    // Art. 16: a correction is a new version; the history shows both, with the reason.
    await treatments.getByRole('button', { name: /^Korrigieren/ }).click();
    await treatments.getByLabel('Beschreibung').fill('Erstgespräch, Fotodokumentation, Aufklärung');
    await treatments.getByLabel('Grund der Korrektur').fill('Aufklärung ergänzt');
    await treatments.getByRole('button', { name: 'Korrektur speichern' }).click();
    await treatments.getByText('Erstgespräch, Fotodokumentation, Aufklärung').waitFor();
    await treatments.getByRole('button', { name: /^Verlauf/ }).click();
    const trail = treatments.getByRole('region', { name: /^Verlauf: Beratung/ });
    await trail.getByText('Fassung 1 · ersetzt', { exact: false }).waitFor();
    await trail.getByText('Fassung 2 · aktuell', { exact: false }).waitFor();
    await trail.getByText('Grund: Aufklärung ergänzt').waitFor();
    t.is(await trail.getByText('Erstgespräch, Fotodokumentation', { exact: true }).count(), 1, 'the original text stays visible');

    // Master data rectification keeps the earlier version with its reason.
    await page.getByRole('tab', { name: 'Stammdaten' }).click();
    const master = page.locator('#master');
    await master.getByRole('button', { name: 'Stammdaten bearbeiten' }).click();
    await master.getByLabel(/^E-Mail-Adresse/).fill('wiebke.quellenhagen@example.org');
    await master.getByLabel(/^Grund der Änderung/).fill('Neue Adresse mitgeteilt');
    await master.getByRole('button', { name: 'Speichern' }).click();
    await master.getByRole('status').getByText('Stammdaten gespeichert.').waitFor();
    await master.getByText('wiebke.quellenhagen@example.org').waitFor();
    await master.getByRole('button', { name: 'Frühere Fassungen anzeigen' }).click();
    await master.locator('#master-history').getByText(/Fassung 1, ersetzt am .*Grund: Neue Adresse mitgeteilt/).waitFor();
    await master.locator('#master-history').getByText(PATIENT.email, { exact: true }).waitFor();

    // Art. 18: restricted → banner, edits disabled; lifted again.
    await page.getByRole('tab', { name: 'Datenschutzrechte (DSGVO)' }).click();
    const gdpr = page.locator('#gdpr');
    await gdpr.getByRole('button', { name: 'Verarbeitung einschränken …' }).click();
    const restrictDialog = page.getByRole('dialog', { name: 'Verarbeitung einschränken?' });
    await restrictDialog.getByLabel(/^Grund/).fill('Richtigkeit bestritten');
    await restrictDialog.getByRole('button', { name: 'Bestätigen' }).click();
    const banner = page.getByRole('region', { name: 'Verarbeitung eingeschränkt (Art. 18 DSGVO)' });
    await banner.getByText('Grund: Richtigkeit bestritten').waitFor();
    await page.getByRole('tab', { name: 'Stammdaten' }).click();
    t.true(await page.getByRole('button', { name: 'Stammdaten bearbeiten' }).isDisabled(), 'master data cannot be edited');
    await page.getByRole('tab', { name: 'Behandlungsverlauf' }).click();
    t.true(await treatments.getByRole('button', { name: 'Eintrag hinzufügen' }).isDisabled(), 'no new treatment entries');
    await page.getByRole('tab', { name: 'Dokumente und Fotos' }).click();
    t.true(await docs.getByRole('button', { name: 'Hochladen' }).isDisabled(), 'no uploads');
    a11y.restrictedRecord = seriousViolations(await axeViolations(page));
    await shot(page, '5-restricted');
    await page.getByRole('tab', { name: 'Datenschutzrechte (DSGVO)' }).click();
    await gdpr.getByRole('button', { name: 'Einschränkung aufheben …' }).click();
    await page.getByRole('dialog', { name: 'Einschränkung aufheben?' }).getByRole('button', { name: 'Bestätigen' }).click();
    await banner.waitFor({ state: 'detached' });
    await page.getByRole('tab', { name: 'Stammdaten' }).click();
    t.true(await page.getByRole('button', { name: 'Stammdaten bearbeiten' }).isEnabled());
    await page.getByRole('tab', { name: 'Datenschutzrechte (DSGVO)' }).click();

    // Art. 21: the objection switch, behind a confirmation.
    const objection = gdpr.getByRole('switch', { name: 'Widerspruch eingetragen' });
    t.is(await objection.getAttribute('aria-checked'), 'false');
    await objection.click();
    await page.getByRole('dialog', { name: 'Widerspruch eintragen?' }).getByRole('button', { name: 'Bestätigen' }).click();
    await gdpr.getByRole('switch', { name: 'Widerspruch eingetragen', checked: true }).waitFor();
    await page.getByText(/Widerspruch gegen automatisierte Verarbeitung \(Art\. 21 DSGVO\): keine automatischen Erinnerungen/).waitFor();

    // English and back: the record's sections follow the language.
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 2, name: 'Data-subject rights (GDPR)' }).waitFor();
    await page.getByRole('tab', { name: 'Master data' }).click();
    await page.getByRole('heading', { level: 2, name: 'Master data' }).waitFor();
    await page.getByRole('button', { name: 'Deutsch' }).click();
    await page.getByRole('heading', { level: 2, name: 'Stammdaten' }).waitFor();

    // The access log lists the reads and writes of this record.
    await page.getByRole('tab', { name: 'Zugriffsprotokoll' }).click();
    const access = page.locator('#access');
    await access.getByRole('button', { name: 'Zugriffsprotokoll laden' }).click();
    await access.getByRole('cell', { name: 'Dokument hochgeladen', exact: true }).first().waitFor();
    a11y.record = seriousViolations(await axeViolations(page));
    await shot(page, '6-record');

    // Art. 15/20: the JSON export after a confirmation; it holds the patient's name and data.
    await page.getByRole('tab', { name: 'Datenschutzrechte (DSGVO)' }).click();
    await gdpr.getByRole('button', { name: 'Export als JSON' }).click();
    const exportDialog = page.getByRole('dialog', { name: 'Export herunterladen?' });
    const [download] = await Promise.all([page.waitForEvent('download'), exportDialog.getByRole('link', { name: /Herunterladen/ }).click()]);
    const exported = readFileSync((await download.path())!, 'utf8');
    t.true(exported.includes(PATIENT.familyName) && exported.includes(PATIENT.givenName), 'the export names the patient');
    const json = JSON.parse(exported) as { format: string; patient: { data: { familyName: string } }; consents: unknown[]; documents: unknown[] };
    t.is(json.format, 'praxiskern.patient-export');
    t.is(json.patient.data.familyName, PATIENT.familyName);
    t.is(json.consents.length, 1);
    t.is(json.documents.length, 1);
    await exportDialog.waitFor({ state: 'hidden' });

    // Art. 17: typed confirmation; inside the retention period only with override and reason.
    await gdpr.getByRole('button', { name: 'Endgültig löschen …' }).click();
    const erase = page.getByRole('dialog', { name: `${NAME} endgültig löschen?` });
    await erase.getByLabel(/Zur Bestätigung den Namen/).fill('Quellenhag');
    await erase.getByRole('button', { name: 'Endgültig löschen' }).click();
    await erase.locator('#erase-confirm-error').getByText(/stimmt nicht/).waitFor();
    await erase.getByLabel(/Zur Bestätigung den Namen/).fill('LÖSCHEN');
    await erase.getByRole('button', { name: 'Endgültig löschen' }).click();
    await erase.getByRole('alert').getByText(/gesetzlichen Aufbewahrungsfrist \(bis \d{2}\.\d{2}\.\d{4}/).waitFor();
    await erase.getByLabel('Aufbewahrungsfrist bewusst übergehen').check();
    await erase.getByLabel('Grund (Kategorie)').selectOption('data_subject_request');
    await erase.getByLabel(/^Begründung/).fill('Widerruf, Behandlung nicht erfolgt');
    await shot(page, '7-erase-override');
    await erase.getByRole('button', { name: 'Endgültig löschen' }).click();

    // Gone: the list says so and neither the list nor a search finds the patient.
    await page.waitForURL((u) => u.pathname === '/patients');
    await page.getByRole('status').getByText(`Die Akte von ${NAME} wurde gelöscht.`).waitFor();
    await page.getByText('Noch keine Patienten angelegt.').waitFor();
    t.is(await page.getByText(PATIENT.familyName).count(), 1, 'the name appears only in the erasure notice');
    await page.getByLabel('Sortieren nach').selectOption('updated_at');
    await page.waitForURL((u) => u.searchParams.get('sort') === 'updated_at');
    await searchFor(page, PATIENT.familyName.slice(0, 5));
    await page.getByText('Keine Patienten gefunden.').waitFor();
    await searchFor(page, '14.03.1984');
    await page.getByText('Keine Patienten gefunden.').waitFor();
    const api = await page.request.post('/api/v1/patients/search', { data: { q: PATIENT.familyName }, headers: { 'x-csrf-token': (await page.context().cookies()).find((c) => c.name === 'pk_csrf')?.value ?? '' } });
    t.is((await api.json()).total, 0, 'the API finds nobody either');
    t.is((await page.request.get(recordUrl.replace(/.*\/patients\//, '/api/v1/patients/'))).status(), 404, 'the record is gone');
    a11y.list = seriousViolations(await axeViolations(page));
    await shot(page, '8-after-erase');
  }, t.log);

  t.deepEqual(a11y, { emptyList: [], restrictedRecord: [], record: [], list: [] }, 'no serious or critical axe-core violations');
  t.deepEqual(o.cspViolations(), [], 'no Content-Security-Policy violation on any page');
  t.deepEqual(o.console.filter((l) => l.startsWith('pageerror')), [], 'no uncaught errors');
  await o.context.close();
});
