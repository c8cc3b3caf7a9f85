// The reminder offsets per appointment type in headless Chromium against the real server (build
// first: `npm run build`): the administrator reads the current reminders in the types table, sets
// "24; 2" hours for surgeries, gets a field error for text and for an offset below 15 minutes (the
// server's 400 lands next to the field, nothing saved), clears the reminders of a type, and reads
// the page in English. axe-core on every state.
import test from 'ava';
import type { Browser } from 'playwright-core';
import type { TestApp } from '../helpers/app.ts';
import { signedInPage, useSetUpInstance } from './ui-steps.ts';
import { axeViolations, screenshotOnFailure, seriousViolations } from '../helpers/browser.ts';
import { clientAs } from '../integration/patients-fixtures.ts';

let app: TestApp;
let browser: Browser;
let organizationId: string;

useSetUpInstance(test, (env) => ({ app, browser, organizationId } = env));

test('the administrator sets the reminders of an appointment type; bad offsets are refused at the field', async (t) => {
  const admin = await clientAs(app, organizationId, ['admin']);
  const o = await signedInPage(browser, app.url, admin);
  const { page } = o;
  const a11y: Record<string, string[]> = {};
  const types = (await admin.get('/api/v1/appointments/settings')).body.types as { id: string; key: string; reminderOffsetsMinutes: number[] }[];
  const surgery = types.find((x) => x.key === 'surgery')!;
  const followUp = types.find((x) => x.key === 'follow_up')!;
  const offsets = async (id: string) => ((await admin.get('/api/v1/appointments/settings')).body.types as typeof types).find((x) => x.id === id)!.reminderOffsetsMinutes;

  await screenshotOnFailure(page, 'appointment-reminders-ui', async () => {
    await page.goto('/appointments/settings');
    await page.getByRole('heading', { level: 1, name: 'Kalender einrichten' }).waitFor();
    const table = page.getByRole('table', { name: 'Terminarten' });
    const surgeryRow = table.getByRole('row').filter({ hasText: 'Operation' });
    await surgeryRow.getByRole('cell', { name: '24 h vorher', exact: true }).waitFor();
    await page.getByRole('heading', { level: 3, name: 'Terminerinnerungen' }).waitFor();
    a11y.page = seriousViolations(await axeViolations(page));

    await page.getByLabel('Terminart', { exact: true }).selectOption(surgery.id);
    const field = page.getByLabel('Stunden vor dem Termin');
    t.is(await field.inputValue(), '24');
    await field.fill('morgen');
    await page.getByRole('button', { name: 'Erinnerungen speichern' }).click();
    await page.getByText('Bitte nur Zahlen (Stunden) eingeben, getrennt durch Semikolon.').waitFor();
    t.is(await field.getAttribute('aria-invalid'), 'true');
    await field.fill('24; 0,1');
    await page.getByRole('button', { name: 'Erinnerungen speichern' }).click();
    await page.getByRole('alert').getByText('Bitte prüfen Sie die markierten Felder.').waitFor();
    t.is(await field.getAttribute('aria-invalid'), 'true', 'the server\'s 400 (6 minutes < 15) lands at the field');
    t.deepEqual(await offsets(surgery.id), [1440], 'nothing saved');
    a11y.error = seriousViolations(await axeViolations(page));

    await field.fill('24; 2');
    await page.getByRole('button', { name: 'Erinnerungen speichern' }).click();
    await page.getByText('Erinnerungen für „Operation“ gespeichert.').waitFor();
    await surgeryRow.getByRole('cell', { name: '24 h vorher, 2 h vorher', exact: true }).waitFor();
    t.deepEqual(await offsets(surgery.id), [1440, 120]);

    await page.getByLabel('Terminart', { exact: true }).selectOption(followUp.id);
    t.is(await field.inputValue(), '24');
    await field.fill('');
    await page.getByRole('button', { name: 'Erinnerungen speichern' }).click();
    await page.getByText('Erinnerungen für „Nachsorge“ gespeichert.').waitFor();
    await table.getByRole('row').filter({ hasText: 'Nachsorge' }).getByRole('cell', { name: 'keine', exact: true }).waitFor();
    t.deepEqual(await offsets(followUp.id), []);
    a11y.saved = seriousViolations(await axeViolations(page));

    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 3, name: 'Appointment reminders' }).waitFor();
    await page.getByRole('table', { name: 'Appointment types' }).getByRole('row').filter({ hasText: 'Surgery' }).getByRole('cell', { name: '24 h before, 2 h before', exact: true }).waitFor();
    t.is(await page.getByLabel('Hours before the appointment').inputValue(), '');
    a11y.english = seriousViolations(await axeViolations(page));
  }, t.log);

  t.deepEqual(a11y, { page: [], error: [], saved: [], english: [] }, 'no serious or critical axe-core violations');
  t.deepEqual(o.cspViolations(), [], 'no Content-Security-Policy violation');
  t.deepEqual(o.console.filter((l) => l.startsWith('pageerror')), [], 'no uncaught errors');
  await o.context.close();
});
