// The calendar in headless Chromium against the real server (`npm run build` first), in a browser
// whose own time zone is New York and whose locale is American: times must still show in the
// practice's zone (Europe/Berlin) and the UI language. Book by keyboard from an hour slot, move
// and resize with the arrow keys, the week view, cancel with Delete and a reason, and the waiting
// room's arrival → treatment → done; axe-core on every view, no CSP violation.
import anyTest, { type TestFn } from 'ava';
import type { Browser, Page } from 'playwright-core';
import { type TestApp } from '../helpers/app.ts';
import { axeViolations, screenshotOnFailure, seriousViolations } from '../helpers/browser.ts';
import { Client } from '../helpers/http-client.ts';
import { completeSetup, confirmRecoveryCodes, useAppAndBrowser } from './ui-steps.ts';
import { berlinDay } from '../helpers/days.ts';

const test = anyTest as TestFn<{ app: TestApp; browser: Browser }>;

useAppAndBrowser(test);

const berlinToday = () => berlinDay();

test('an appointment is booked, moved, resized and cancelled by keyboard, and the waiting room records arrival and treatment', async (t) => {
  const { app, browser } = t.context;
  const context = await browser.newContext({ baseURL: app.url, locale: 'en-US', timezoneId: 'America/New_York', viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(15_000);
  const page: Page = await context.newPage();
  const consoleLines: string[] = [];
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  const a11y: Record<string, string[]> = {};
  const today = berlinToday();

  await screenshotOnFailure(page, 'appointments-flow', async () => {
    await completeSetup(page);
    await confirmRecoveryCodes(page);

    // The same session through the API: a patient, a practitioner and a room.
    const api = new Client(app.url);
    for (const c of await context.cookies()) api.cookies.set(c.name, c.value);
    const patient = (await api.post('/api/v1/patients', { givenName: 'Kalinka', familyName: 'Terminova', sex: 'female', birthDate: '1979-11-02' })).body.patient;
    t.truthy(patient?.id);
    const doctor = (await api.post('/api/v1/appointments/resources', { kind: 'practitioner', name: 'Dr. Zeitlos' })).body.resource;
    const room = (await api.post('/api/v1/appointments/resources', { kind: 'room', name: 'Raum Lindgrün' })).body.resource;

    // The calendar of Dr. Zeitlos, today, from the navigation.
    await page.getByRole('navigation', { name: 'Hauptnavigation' }).getByRole('link', { name: 'Kalender' }).click();
    await page.getByRole('heading', { level: 1, name: 'Terminkalender' }).waitFor();
    await page.getByText('Zeiten in der Zeitzone der Praxis: Europe/Berlin.').waitFor();
    await page.getByLabel('Kalender von', { exact: true }).selectOption(doctor.id);
    await page.waitForURL(new RegExp(`resource=${doctor.id}`));
    a11y.emptyDay = seriousViolations(await axeViolations(page));

    // Create by keyboard: the 10:00 slot's button, Enter, type the search, Enter, Tab to the submit button.
    await page.getByRole('button', { name: 'Neuer Termin um 10:00' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Neuer Termin' });
    await dialog.getByLabel('Patient/in suchen').focus();
    await page.keyboard.type('Terminova');
    await page.keyboard.press('Enter');
    await dialog.getByLabel(/Terminova, Kalinka/).waitFor();
    t.true(await dialog.getByLabel(/Terminova, Kalinka/).isChecked(), 'the only match is chosen');
    t.is(await dialog.getByLabel('Uhrzeit (HH:MM)').inputValue(), '10:00');
    t.is(await dialog.getByLabel('Behandler/in').inputValue(), doctor.id);
    await dialog.getByLabel('Raum').selectOption(room.id);
    a11y.createDialog = seriousViolations(await axeViolations(page));
    await dialog.getByRole('button', { name: 'Termin anlegen' }).focus();
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'hidden' });
    const card = page.locator('.appointment-card').filter({ hasText: 'Terminova, Kalinka' });
    await card.getByText('10:00–10:30').waitFor();
    t.is(await card.evaluate((el) => el === (el as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement), true, 'the new appointment has the focus');
    const [booked] = (await api.get(`/api/v1/patients/${patient.id}/appointments`)).body.appointments;
    t.is(booked.startsAt, new Date(`${today}T10:00:00${offsetOf(today)}`).toISOString(), '10:00 Berlin, though the browser is in New York');

    // Move by 15 minutes, then make it 15 minutes longer.
    await page.keyboard.press('ArrowDown');
    await card.getByText('10:15–10:45').waitFor();
    await page.getByRole('status').filter({ hasText: 'Termin jetzt' }).waitFor();
    await page.keyboard.press('Shift+ArrowDown');
    await card.getByText('10:15–11:00').waitFor();
    const moved = (await api.get(`/api/v1/appointments/${booked.id}`)).body.appointment;
    t.is((new Date(moved.endsAt).getTime() - new Date(moved.startsAt).getTime()) / 60_000, 45);
    t.is(moved.roomId, room.id);
    a11y.dayView = seriousViolations(await axeViolations(page));

    // With the pointer: dragged onto the 12:00 hour it keeps its 15 minutes past the hour and its length.
    // (On a DST change day — today may be one — every hour's label names its zone: "12:00 (MESZ)".)
    await card.dragTo(page.locator('li.calendar-hour', { has: page.locator('.calendar-hour-label', { hasText: /^12:00( \(MES?Z\))?$/ }) }));
    await card.getByText('12:15–13:00').waitFor();

    // The week view shows it on today's column.
    await page.getByLabel('Ansicht', { exact: true }).selectOption('week');
    await page.waitForURL(/view=week/);
    await page.locator('.calendar-week-day').filter({ hasText: 'Terminova, Kalinka' }).waitFor();
    a11y.weekView = seriousViolations(await axeViolations(page));
    await page.getByLabel('Ansicht', { exact: true }).selectOption('day');

    // A second appointment, cancelled with Delete and a reason.
    const second = (await api.post('/api/v1/appointments', { patientId: patient.id, typeId: booked.typeId, practitionerId: doctor.id, start: `${today}T14:00` })).body.appointment;
    await page.reload();
    const secondCard = page.locator(`[data-appointment-id="${second.id}"]`);
    await secondCard.focus();
    await page.keyboard.press('Delete');
    const details = page.getByRole('dialog', { name: 'Termin' });
    await details.getByLabel('Grund der Absage').fill('Patientin krank');
    a11y.cancelDialog = seriousViolations(await axeViolations(page));
    await details.getByRole('button', { name: 'Termin absagen' }).press('Enter');
    await details.waitFor({ state: 'hidden' });
    t.is((await api.get(`/api/v1/appointments/${second.id}`)).body.appointment.status, 'cancelled');
    t.is((await api.get(`/api/v1/appointments/${second.id}`)).body.appointment.cancelReason, 'Patientin krank');

    // The waiting room: arrival, treatment, done.
    await page.getByRole('navigation', { name: 'Hauptnavigation' }).getByRole('link', { name: 'Wartezimmer' }).click();
    await page.getByRole('heading', { level: 1, name: 'Wartezimmer – heute' }).waitFor();
    const row = page.locator(`tr[data-appointment-id="${booked.id}"]`);
    await row.getByText('12:15–13:00').waitFor();
    await page.locator(`tr[data-appointment-id="${second.id}"]`).getByText('Abgesagt').waitFor();
    a11y.waitingRoom = seriousViolations(await axeViolations(page));
    await row.getByRole('button', { name: /^Angekommen/ }).click();
    await row.getByText(/angekommen \d\d:\d\d/).waitFor();
    await row.getByRole('button', { name: /^Behandlung beginnen/ }).click();
    await row.getByText('In Behandlung').waitFor();
    await row.getByRole('button', { name: /^Abschließen/ }).click();
    await row.getByText('Erledigt').waitFor();
    t.is((await api.get(`/api/v1/appointments/${booked.id}`)).body.appointment.status, 'done');

    // The record lists both; English formats the same times in the practice's zone.
    await page.goto(`/patients/${patient.id}`);
    await page.getByRole('tab', { name: 'Termine' }).click();
    const section = page.locator('#appointments');
    await section.getByText('Erledigt').waitFor();
    await section.getByText(/Abgesagt – Patientin krank/).waitFor();
    a11y.record = seriousViolations(await axeViolations(page));
    await page.getByRole('group', { name: 'Sprache' }).getByRole('button', { name: 'English' }).click();
    await section.getByText(/12:15–13:00/).waitFor();
    await section.getByText('Done').waitFor();
    const saved = page.waitForResponse((r) => r.url().endsWith('/api/v1/session/locale') && r.request().method() === 'PATCH');
    await page.getByRole('group', { name: 'Language' }).getByRole('button', { name: 'Deutsch' }).click();
    await saved;
    await section.getByText('Erledigt').waitFor();

    // The clock changes: 23 hours on 2026-03-29, 25 on 2026-10-25 with 02:00 twice, each named by
    // its offset; booking from the second 02:00 books the second one (01:00 UTC), not the first.
    await page.goto(`/appointments?view=day&day=2026-03-29&resource=${doctor.id}`);
    await page.getByText('Dieser Tag hat 23 Stunden (Zeitumstellung).').waitFor();
    t.is(await page.locator('li.calendar-hour').count(), 23);
    await page.goto(`/appointments?view=day&day=2026-10-25&resource=${doctor.id}`);
    await page.getByText('Dieser Tag hat 25 Stunden (Zeitumstellung).').waitFor();
    t.is(await page.locator('li.calendar-hour').count(), 25);
    const labels = await page.locator('.calendar-hour-label').allTextContents();
    t.deepEqual(labels.filter((l) => l.startsWith('02:00')), ['02:00 (MESZ)', '02:00 (MEZ)']);
    a11y.dstDay = seriousViolations(await axeViolations(page));
    await page.getByRole('button', { name: 'Neuer Termin um 02:00 (MEZ)' }).focus();
    await page.keyboard.press('Enter');
    const dst = page.getByRole('dialog', { name: 'Neuer Termin' });
    await dst.getByLabel('Patient/in suchen').fill('Terminova');
    await dst.getByLabel('Patient/in suchen').press('Enter');
    await dst.getByLabel(/Terminova, Kalinka/).waitFor();
    await dst.getByRole('button', { name: 'Termin anlegen' }).click();
    await dst.waitFor({ state: 'hidden' });
    const all = (await api.get(`/api/v1/patients/${patient.id}/appointments`)).body.appointments as { startsAt: string }[];
    t.true(all.some((a) => a.startsAt === '2026-10-25T01:00:00.000Z'), all.map((a) => a.startsAt).join(', '));
  }, t.log);

  t.deepEqual(a11y, { emptyDay: [], createDialog: [], dayView: [], weekView: [], cancelDialog: [], waitingRoom: [], record: [], dstDay: [] });
  t.deepEqual(consoleLines.filter((l) => /Content Security Policy/i.test(l)), []);
  await context.close();
});

/** Berlin's UTC offset on a day at 10:00 ("+01:00" or "+02:00"). */
function offsetOf(day: string): string {
  const noonUtc = new Date(`${day}T10:00:00Z`);
  const name = new Intl.DateTimeFormat('en-US', { timeZone: 'Europe/Berlin', timeZoneName: 'shortOffset' }).formatToParts(noonUtc).find((p) => p.type === 'timeZoneName')!.value;
  return name === 'GMT+2' ? '+02:00' : '+01:00';
}
