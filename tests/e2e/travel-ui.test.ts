// Travel data in headless Chromium against the real server (build first: `npm run build`): a
// coordinator adds a flight (an arrival before the departure is refused at its field) and a hotel
// stay to a patient's record; the arrivals board lists the arrival with the hotel and "transfer
// missing"; after a transfer is added the board says everything is arranged; the board in English.
// axe-core on the editor and the board, no CSP violation, no uncaught error.
import test from 'ava';
import type { Browser } from 'playwright-core';
import type { TestApp } from '../helpers/app.ts';
import { signedInPage, useSetUpInstance } from './ui-steps.ts';
import { axeViolations, screenshotOnFailure, seriousViolations } from '../helpers/browser.ts';
import { clientAs, samplePatient } from '../integration/patients-fixtures.ts';
import { startFakeAviationStack, type FakeAviationStack } from '../helpers/fake-aviationstack.ts';
import { berlinDay } from '../helpers/days.ts';

let app: TestApp;
let browser: Browser;
let organizationId: string;
let fake: FakeAviationStack;

useSetUpInstance(test, (env) => ({ app, browser, organizationId } = env));
test.before(async () => {
  fake = await startFakeAviationStack();
});
test.after.always(async () => {
  await fake?.close();
});

const german = (iso: string) => iso.split('-').reverse().join('.');

test('a coordinator adds a flight and a hotel; the arrivals board shows the arrival with "transfer missing"', async (t) => {
  const coordinator = await clientAs(app, organizationId, ['coordinator']);
  const patient = (await coordinator.post('/api/v1/patients', { ...samplePatient({ givenName: 'Rania', familyName: 'Reisewitz' }), allowDuplicate: true })).body.patient;
  const o = await signedInPage(browser, app.url, coordinator);
  const { page } = o;
  const a11y: Record<string, string[]> = {};
  const day = berlinDay(1);

  await screenshotOnFailure(page, 'travel-ui', async () => {
    await page.goto(`/patients/${patient.id}#travel`);
    const section = page.getByRole('region', { name: 'Reisedaten' });
    await section.getByText('Kein Flug eingetragen.').waitFor();
    await section.getByRole('button', { name: 'Flug hinzufügen' }).click();
    const form = section.getByRole('form', { name: 'Flug hinzufügen' });
    await form.getByLabel('Fluggesellschaft').fill('Emirates');
    await form.getByLabel('Flugnummer').fill('EK 45');
    await form.getByLabel('Abflughafen (IATA)').fill('DXB');
    await form.getByLabel('Abflugtag').fill(german(day));
    await form.getByLabel('Abflugzeit').fill('09:15');
    await form.getByLabel('Zielflughafen (IATA)').fill('FRA');
    await form.getByLabel('Ankunftstag').fill(german(day));
    await form.getByLabel('Ankunftszeit').fill('08:40'); // before the departure
    await form.getByRole('button', { name: 'Speichern' }).click();
    await form.getByRole('alert').getByText('Bitte prüfen Sie die markierten Felder.').waitFor();
    await form.getByText('Die Ankunft muss nach dem Abflug liegen.').waitFor();
    t.is(await form.getByLabel('Ankunftszeit').getAttribute('aria-invalid'), 'true');
    a11y.flightError = seriousViolations(await axeViolations(page));
    await form.getByLabel('Ankunftszeit').fill('13:40');
    await form.getByRole('button', { name: 'Speichern' }).click();
    await section.getByText('Gespeichert.').waitFor();
    const flights = section.getByRole('table', { name: 'Flüge' });
    await flights.getByRole('row').filter({ hasText: 'Emirates EK45' }).filter({ hasText: 'DXB → FRA' }).waitFor();

    await section.getByRole('button', { name: 'Hotel hinzufügen' }).click();
    const hotelForm = section.getByRole('form', { name: 'Hotel hinzufügen' });
    await hotelForm.getByLabel('Hotelname').fill('Hotel Mainufer-Residenz');
    await hotelForm.getByLabel('Hoteladresse').fill('Schaumainkai 12, 60594 Frankfurt');
    await hotelForm.getByLabel('Check-in').fill(german(day));
    await hotelForm.getByLabel('Check-out').fill(german(berlinDay(4)));
    await hotelForm.getByRole('button', { name: 'Speichern' }).click();
    await section.getByRole('table', { name: 'Hotel' }).getByRole('row').filter({ hasText: 'Hotel Mainufer-Residenz' }).waitFor();
    a11y.editor = seriousViolations(await axeViolations(page));

    await page.getByRole('navigation', { name: 'Hauptnavigation' }).getByRole('link', { name: 'Anreisen' }).click();
    await page.getByRole('heading', { level: 1, name: 'Anreisen' }).waitFor();
    const row = page.getByRole('table', { name: 'Ankünfte' }).getByRole('row').filter({ hasText: 'Reisewitz, Rania' });
    await row.waitFor();
    const text = (await row.textContent()) ?? '';
    t.regex(text, /Emirates EK45 · DXB → FRA/);
    t.regex(text, /13:40/);
    t.regex(text, /Hotel Mainufer-Residenz/);
    t.regex(text, /Transfer fehlt/);
    t.notRegex(text, /Hotel fehlt/);
    a11y.board = seriousViolations(await axeViolations(page));

    // A transfer added through the API: the board then says everything is arranged; also in English.
    t.is((await coordinator.post(`/api/v1/patients/${patient.id}/travel/transfers`, { pickupAt: `${day}T14:10`, pickupPlace: 'FRA Terminal 1', driverName: 'Tomasz Wirbel', driverPhone: '+49 171 9998887' })).status, 201);
    await page.reload();
    await row.getByText('Alles organisiert').waitFor();
    await page.getByRole('button', { name: 'English' }).click();
    const en = page.getByRole('table', { name: 'Arrivals' }).getByRole('row').filter({ hasText: 'Reisewitz, Rania' });
    await en.getByText('All arranged').waitFor();
    t.regex((await en.textContent()) ?? '', /14:10, FRA Terminal 1 · Tomasz Wirbel/);
    a11y.boardEnglish = seriousViolations(await axeViolations(page));
  }, t.log);

  t.deepEqual(a11y, { flightError: [], editor: [], board: [], boardEnglish: [] }, 'no serious or critical axe-core violations');
  t.deepEqual(o.cspViolations(), [], 'no Content-Security-Policy violation');
  t.deepEqual(o.console.filter((l) => l.startsWith('pageerror')), [], 'no uncaught errors');
  await o.context.close();
});

test('an admin switches the flight-status look-up on; a look-up on the patient page shows "delayed by 25 min" on the record and the board', async (t) => {
  const admin = await clientAs(app, organizationId, ['admin']);
  const patient = (await admin.post('/api/v1/patients', { ...samplePatient({ givenName: 'Valerio', familyName: 'Verspätungsmann' }), allowDuplicate: true })).body.patient;
  const day = berlinDay(2);
  const flight = await admin.post(`/api/v1/patients/${patient.id}/travel/flights`, { direction: 'inbound', airline: 'Lufthansa', flightNumber: 'LH 631', departureAirport: 'DXB', departureAt: `${day}T08:00`, arrivalAirport: 'FRA', arrivalAt: `${day}T13:20` });
  t.is(flight.status, 201, flight.text);
  const scheduled = flight.body.flight.arrivalAt as string;
  fake.flights.push({ flightIata: 'LH631', date: day, status: 'active', scheduled, estimated: new Date(Date.parse(scheduled) + 25 * 60_000).toISOString() });
  const o = await signedInPage(browser, app.url, admin);
  const { page } = o;
  const a11y: Record<string, string[]> = {};
  await screenshotOnFailure(page, 'travel-status-ui', async () => {
    await page.goto('/travel');
    const settings = page.getByRole('region', { name: 'Flugstatus-Abfrage' });
    await settings.getByText('Zurzeit ausgeschaltet.').waitFor();
    await settings.getByLabel('Flugstatus-Abfrage einschalten').check();
    await settings.getByLabel('Adresse des Dienstes').fill(fake.url);
    await settings.getByLabel('Zugangsschlüssel').fill(fake.accessKey);
    await settings.getByRole('button', { name: 'Speichern' }).click();
    await settings.getByText('Flugstatus-Abfrage eingeschaltet.').waitFor();
    t.is(await settings.getByLabel('Zugangsschlüssel').inputValue(), '', 'the key is not shown again');
    a11y.settings = seriousViolations(await axeViolations(page));

    await page.goto(`/patients/${patient.id}#travel`);
    const section = page.getByRole('region', { name: 'Reisedaten' });
    await section.getByRole('button', { name: /^Flugstatus abfragen\s*: LH631$/ }).click();
    await section.getByText('Flugstatus von LH631 aktualisiert.').waitFor();
    await section.getByRole('table', { name: 'Flüge' }).getByRole('row').filter({ hasText: 'verspätet um 25 Min.' }).waitFor();
    a11y.record = seriousViolations(await axeViolations(page));
    await page.goto('/travel');
    const row = page.getByRole('table', { name: 'Ankünfte' }).getByRole('row').filter({ hasText: 'Verspätungsmann, Valerio' });
    await row.getByText('verspätet um 25 Min.').waitFor();
    t.regex((await row.textContent()) ?? '', /13:45/);
    t.regex((await row.textContent()) ?? '', /Hotel fehlt, Transfer fehlt/);
  }, t.log);
  t.deepEqual(fake.requests.map((r) => Object.keys(r.query).sort().join(',')), ['access_key,flight_date,flight_iata'], 'one request, with only flight number, date and key');
  t.deepEqual(a11y, { settings: [], record: [] }, 'no serious or critical axe-core violations');
  t.deepEqual(o.cspViolations(), [], 'no Content-Security-Policy violation');
  t.deepEqual(o.console.filter((l) => l.startsWith('pageerror')), [], 'no uncaught errors');
  await o.context.close();
});
