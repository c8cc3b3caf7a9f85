// Dates and messages follow the UI language, not the browser's: in an English-language Chromium
// (locale en-US, --lang=en-US, whose own date picker would read 17.05.1980 as mm/dd) the German
// UI takes the birth date as TT.MM.JJJJ, echoes it in words before saving and stores 17 May;
// a refused entry shows the German text for the error's code, never the server's English.
import anyTest, { type TestFn } from 'ava';
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { launchBrowser, observedPage, screenshotOnFailure } from '../helpers/browser.ts';
import { completeSetup, confirmRecoveryCodes } from './ui-steps.ts';

const test = anyTest as TestFn<{ app: TestApp; browser: Browser }>;

test.before(async (t) => {
  t.context = { app: await startTestApp(), browser: await launchBrowser(['--lang=en-US']) };
});

test.after.always(async (t) => {
  await t.context.browser?.close();
  await t.context.app?.stop();
  await t.context.app?.db.drop();
});

test('in an English-language browser the German UI stores 17.05.1980 as 17 May 1980, echoed in words, shows German error texts, and the English UI shows DD/MM/YYYY', async (t) => {
  const { app, browser } = t.context;
  const { page, console: lines } = await observedPage(browser, app.url, 'en-US');
  await screenshotOnFailure(page, 'dates-locale', async () => {
    t.is(await page.evaluate('navigator.language'), 'en-US', 'the browser itself is English');
    await completeSetup(page);
    await confirmRecoveryCodes(page);
    await page.getByRole('navigation', { name: 'Hauptnavigation' }).getByRole('link', { name: 'Patienten' }).click();
    await page.getByRole('link', { name: 'Patient anlegen' }).click();
    await page.getByRole('heading', { level: 1, name: 'Patient anlegen' }).waitFor();

    const birth = page.getByLabel('Geburtsdatum');
    t.is(await birth.getAttribute('type'), 'text', 'no browser date picker with the browser\'s format');
    t.is(await birth.getAttribute('placeholder'), 'TT.MM.JJJJ');
    const echo = page.locator('#new-patient-birthDate-echo');

    // Refused entries: a day that does not exist, no sex chosen, a phone number without area code.
    await birth.pressSequentially('31.02.1980');
    await birth.press('Tab');
    await echo.getByText('Diesen Tag gibt es nicht.').waitFor();
    await page.getByLabel('Vorname').fill('Henrike');
    await page.getByLabel('Nachname').fill('Datumsfeld');
    await page.locator('#new-patient-phone').fill('12345');
    await page.getByRole('button', { name: 'Patient anlegen' }).click();
    await page.locator('#new-patient-sex-error').getByText('Bitte einen der angebotenen Werte wählen.').waitFor();
    await page.locator('#new-patient-phone-error').getByText('Bitte eine Telefonnummer eingeben, z. B. 0171 1234567').waitFor();
    await page.locator('#new-patient-birthDate-error').getByText('Bitte ein gültiges Datum eingeben.').waitFor();
    await page.getByRole('alert').getByText('Bitte prüfen Sie die markierten Felder.').waitFor();
    const text = (await page.locator('main').textContent()) ?? '';
    t.notRegex(text, /Invalid|expected|must be|received/, 'no English server text in the German UI');

    // The date typed the German way is echoed in words before saving.
    await birth.fill('');
    await birth.pressSequentially('17.05.1980');
    await echo.getByText('Erkannt: 17. Mai 1980').waitFor();

    // A German national mobile number is fine; it is stored in E.164 and shown grouped.
    await page.getByLabel('Geschlecht').selectOption('female');
    await page.locator('#new-patient-phone').fill('0171 1234567');
    await page.locator('#new-patient-phone').press('Tab');
    t.is(await page.locator('#new-patient-phone').inputValue(), '+49 171 1234567', 'the number is grouped the way it was understood');
    await page.getByRole('button', { name: 'Patient anlegen' }).click();
    await page.getByRole('heading', { level: 1, name: 'Henrike Datumsfeld' }).waitFor();
    await page.getByText('geboren am 17.05.1980', { exact: false }).first().waitFor();
    await page.getByText('+49 171 1234567', { exact: true }).waitFor();
    const id = new URL(page.url()).pathname.split('/').pop()!;
    const stored = (await page.evaluate(`fetch('/api/v1/patients/${id}').then((r) => r.json())`)) as { patient: { birthDate: string; phone: string } };
    t.is(stored.patient.birthDate, '1980-05-17');
    t.is(stored.patient.phone, '+491711234567');

    // The English UI in the same browser: day first with the format shown, the date in English words.
    await page.getByRole('group', { name: 'Sprache' }).getByRole('button', { name: 'English' }).click();
    await page.getByText('born 17/05/1980', { exact: false }).first().waitFor();
    await page.getByRole('tab', { name: 'Master data' }).click();
    await page.getByRole('button', { name: 'Edit master data' }).click();
    const editBirth = page.getByLabel('Date of birth');
    t.is(await editBirth.inputValue(), '17/05/1980');
    t.is(await editBirth.getAttribute('placeholder'), 'DD/MM/YYYY');
    await page.locator('#edit-patient-birthDate-echo').getByText('Understood: 17 May 1980').waitFor();
    t.is(await page.locator('#edit-patient-phone').inputValue(), '+49 171 1234567');
  }, t.log);
  t.deepEqual(lines.filter((l) => l.startsWith('pageerror')), []);
});
