// Questionnaires the practice designs, in headless Chromium against the real server (build first:
// `npm run build`): a doctor designs a questionnaire with the keyboard (a condition and a score
// with bands), checks it in the live preview, publishes it, makes it the default, fills it for a
// patient and sees the score on the record. Keys never appear on a page. axe-core on the editor,
// the preview and the filled form; no CSP violation, no uncaught error.
import test from 'ava';
import type { Browser, Locator, Page } from 'playwright-core';
import type { TestApp } from '../helpers/app.ts';
import { axeViolations, screenshotOnFailure, seriousViolations } from '../helpers/browser.ts';
import { openAdminMenu, signedInPage, useSetUpInstance } from './ui-steps.ts';
import { clientAs, samplePatient } from '../integration/patients-fixtures.ts';

let app: TestApp;
let browser: Browser;
let organizationId: string;

useSetUpInstance(test, (env) => ({ app, browser, organizationId } = env));

/** Types into a field reached by focus, as a keyboard user would. */
async function typeInto(field: Locator, text: string) {
  await field.fill('');
  await field.focus();
  await field.page().keyboard.type(text);
}
/** Activates a button or checkbox from the keyboard. */
async function press(control: Locator, key: 'Enter' | 'Space' = 'Enter') {
  await control.focus();
  await control.press(key === 'Space' ? ' ' : key);
}

test('a doctor designs a questionnaire with a condition and a score, previews, publishes and fills it for a patient', async (t) => {
  const doctor = await clientAs(app, organizationId, ['doctor']);
  const patient = (await doctor.post('/api/v1/patients', { ...samplePatient({ givenName: 'Frieda', familyName: 'Fallrisiko' }), allowDuplicate: true })).body.patient;
  const o = await signedInPage(browser, app.url, doctor);
  const { page } = o;
  const a11y: Record<string, string[]> = {};
  const started = Date.now();

  try {
  await screenshotOnFailure(page, 'questionnaires-ui', async () => {
    await page.goto('/');
    await press((await openAdminMenu(page)).getByRole('link', { name: 'Fragebögen' }));
    await page.getByRole('heading', { level: 1, name: 'Fragebögen' }).waitFor();
    await page.getByRole('heading', { level: 3, name: 'Barthel-Index' }).waitFor();
    await typeInto(page.getByLabel('Titel eines neuen Fragebogens'), 'Sturzrisiko-Check');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 2, name: 'Fragebogen bearbeiten: Sturzrisiko-Check' }).waitFor();

    // Question 1: yes/no (the default kind), required
    await press(page.getByRole('button', { name: 'Frage hinzufügen' }));
    const q1 = page.getByRole('group', { name: /^Frage 1/ });
    await typeInto(q1.getByLabel('Fragetext (Deutsch)', { exact: true }), 'Stürze im letzten Jahr?');
    await typeInto(q1.getByLabel(/^Fragetext \(Englisch\)/), 'Falls in the last year?');
    await press(q1.getByLabel('Pflichtfrage'), 'Space');

    // Question 2: single choice with points, shown only when question 1 is answered "yes"
    await press(page.getByRole('button', { name: 'Frage hinzufügen' }));
    const q2 = page.getByRole('group', { name: /^Frage 2/ });
    await typeInto(q2.getByLabel('Fragetext (Deutsch)', { exact: true }), 'Wie oft gestürzt?');
    await q2.getByLabel('Art der Antwort').selectOption({ label: 'Einfachauswahl' });
    const o1 = q2.getByRole('group', { name: 'Antwortmöglichkeit 1' });
    await typeInto(o1.getByLabel('Text (Deutsch)', { exact: true }), 'einmal');
    await typeInto(o1.getByLabel(/^Punkte/), '1');
    await press(q2.getByRole('button', { name: /^Antwortmöglichkeit hinzufügen/ }));
    const o2 = q2.getByRole('group', { name: 'Antwortmöglichkeit 2' });
    await typeInto(o2.getByLabel('Text (Deutsch)', { exact: true }), 'mehrmals');
    await typeInto(o2.getByLabel(/^Punkte/), '2');
    await press(q2.getByLabel('Nur zeigen, wenn …', { exact: true }), 'Space');
    const cond = q2.getByRole('group', { name: 'Nur zeigen, wenn …' });
    t.is(await cond.getByLabel('Frage', { exact: true }).locator('option:checked').textContent(), 'Stürze im letzten Jahr?');
    t.is(await cond.getByLabel('Vergleich').locator('option:checked').textContent(), 'ist');
    t.is(await cond.getByLabel('Wert').locator('option:checked').textContent(), 'Ja');

    // Question 3: a scale 0–3
    await press(page.getByRole('button', { name: 'Frage hinzufügen' }));
    const q3 = page.getByRole('group', { name: /^Frage 3/ });
    await typeInto(q3.getByLabel('Fragetext (Deutsch)', { exact: true }), 'Gangunsicherheit');
    await q3.getByLabel('Art der Antwort').selectOption({ label: 'Skala' });
    await typeInto(q3.getByLabel('Maximum', { exact: true }), '3');

    // The score: sum of questions 2 and 3, two bands
    await press(page.getByRole('button', { name: 'Punktwert hinzufügen' }));
    const score = page.getByRole('group', { name: 'Punktwert 1' });
    await typeInto(score.getByLabel('Name (Deutsch)', { exact: true }), 'Sturzrisiko');
    const counted = score.getByRole('group', { name: 'Gezählte Fragen' });
    t.true(await counted.getByLabel('Wie oft gestürzt?').isChecked());
    t.true(await counted.getByLabel('Gangunsicherheit').isChecked());
    await typeInto(score.getByLabel(/^Einheit \(Deutsch\)/), 'Punkte');
    await press(score.getByRole('button', { name: 'Stufe hinzufügen' }));
    await typeInto(score.getByLabel('unter', { exact: true }), '3');
    await typeInto(score.getByLabel('Bezeichnung (Deutsch)', { exact: true }), 'geringes Risiko');
    await press(score.getByRole('button', { name: 'Stufe hinzufügen' }));
    await typeInto(score.getByLabel('ab', { exact: true }).nth(1), '3');
    await typeInto(score.getByLabel('Bezeichnung (Deutsch)', { exact: true }).nth(1), 'erhöhtes Risiko');
    a11y.editor = seriousViolations(await axeViolations(page));

    // The live preview: the condition shows question 2, the score follows the answers
    const preview = page.getByRole('region', { name: 'Vorschau' });
    t.is(await preview.getByRole('group', { name: 'Wie oft gestürzt?' }).count(), 0, 'hidden until question 1 is "yes"');
    await press(preview.getByRole('group', { name: 'Stürze im letzten Jahr?' }).getByLabel('Ja'), 'Space');
    await press(preview.getByRole('group', { name: /^Wie oft gestürzt\?/ }).getByLabel('mehrmals'), 'Space');
    await press(preview.getByRole('group', { name: /^Gangunsicherheit/ }).getByLabel('2'), 'Space');
    await preview.getByText('4 Punkte').waitFor();
    await preview.getByText('– erhöhtes Risiko').waitFor();
    a11y.preview = seriousViolations(await axeViolations(page));
    await press(preview.getByRole('group', { name: 'Stürze im letzten Jahr?' }).getByLabel('Nein'), 'Space');
    await preview.getByText('2 Punkte').waitFor();
    t.is(await preview.getByRole('group', { name: /^Wie oft gestürzt\?/ }).count(), 0, 'a hidden question neither shows nor counts');

    // Save, then publish
    await press(page.getByRole('button', { name: 'Entwurf speichern' }));
    await page.getByRole('status').getByText('Entwurf gespeichert.').waitFor();
    await press(page.getByRole('button', { name: 'Veröffentlichen' }));
    await page.getByText('„Sturzrisiko-Check“ als Version 1 veröffentlicht.').waitFor();
    const published = page.getByRole('table', { name: 'Veröffentlichte Fragebögen' });
    await press(published.getByRole('button', { name: /^Als Standard festlegen\s*: Sturzrisiko-Check$/ }));
    await page.getByText('„Sturzrisiko-Check“ ist jetzt der Standard-Fragebogen der Anamnese.').waitFor();
    const html = await page.content();
    t.false(/stuerze_im_letzten_jahr|sturzrisiko_check|gangunsicherheit/.test(html), 'no internal key on the page');
    a11y.list = seriousViolations(await axeViolations(page));

    // Fill it for the patient: the default questionnaire, the condition and score live, the result stored
    await page.goto(`/patients/${patient.id}#anamnesis`);
    const section = page.locator('#anamnesis');
    await section.getByText('Noch keine Anamnese erfasst.').waitFor();
    t.is(await section.getByLabel('Fragebogen').locator('option:checked').textContent(), 'Sturzrisiko-Check (Standard)');
    await press(section.getByRole('button', { name: 'Anamnese erfassen' }));
    await section.getByRole('heading', { name: 'Sturzrisiko-Check (Version 1)' }).waitFor();
    await press(section.getByRole('group', { name: 'Stürze im letzten Jahr?' }).getByLabel('Ja'), 'Space');
    await press(section.getByRole('group', { name: /^Wie oft gestürzt\?/ }).getByLabel('einmal'), 'Space');
    await section.getByText('unvollständig (1 offen)').waitFor();
    await press(section.getByRole('group', { name: /^Gangunsicherheit/ }).getByLabel('3'), 'Space');
    await section.getByText('4 Punkte').waitFor();
    a11y.form = seriousViolations(await axeViolations(page));
    await press(section.getByRole('button', { name: 'Anamnese speichern' }));
    await section.getByRole('status').getByText('Anamnese gespeichert.').waitFor();
    await section.getByRole('heading', { level: 3, name: 'Sturzrisiko-Check' }).waitFor();
    await section.getByText('4 Punkte').waitFor();
    await section.getByText('– erhöhtes Risiko').waitFor();
    t.regex((await section.locator('.facts').textContent()) ?? '', /Wie oft gestürzt\?\s*einmal/);
    a11y.record = seriousViolations(await axeViolations(page));

    // In English the record reads in English where the practice wrote English, German otherwise
    await page.getByRole('button', { name: 'English' }).click();
    await section.getByText('Falls in the last year?').waitFor();
    await section.getByText('4 Punkte').waitFor(); // the unit was written in German only
  }, t.log);
  } finally {
    for (const l of o.console.filter((x) => /^(pageerror|error)/.test(x))) t.log(l);
  }

  const record = (await doctor.get(`/api/v1/patients/${patient.id}/record`)).body;
  t.like(record.anamnesis.data.scores[0], { value: 4, band: { de: 'erhöhtes Risiko' } });
  t.deepEqual(Object.keys(record.anamnesis.data.answers).sort(), ['gangunsicherheit', 'stuerze_im_letzten_jahr', 'wie_oft_gestuerzt'], 'keys were made from the labels');
  t.log(`flow took ${Date.now() - started} ms`);
  t.deepEqual(a11y, { editor: [], preview: [], list: [], form: [], record: [] }, 'no serious or critical axe-core violations');
  t.deepEqual(o.cspViolations(), [], 'no Content-Security-Policy violation');
  t.deepEqual(o.console.filter((l) => l.startsWith('pageerror')), [], 'no uncaught errors');
});

export type { Page };
