// Finance in headless Chromium against the real server (build first: `npm run build`) and the real
// `stripe` SDK pointed at the local Stripe server: a doctor writes a quote for the patient's
// treatment plan (VAT per item), the finance user sends it, records the acceptance and creates a
// payment link; the patient pays (Stripe's signed webhook); the quote shows paid, the finance view
// and its report show the revenue, the receipt prints — and finance never sees the item
// descriptions. The reports page shows the finance user the finance report alone, amounts as money
// in German and English (table, CSV in cents, print view). axe-core on every finance page and the receipt print view; no CSP violation.
import test from 'ava';
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { axeViolations, launchBrowser, observedPage, screenshotOnFailure, seriousViolations } from '../helpers/browser.ts';
import { HEALTH, installStripeSecrets, patientWithPlan, startFinanceEnv, type FinanceEnv } from '../integration/finance-fixtures.ts';
import type { Client } from '../helpers/http-client.ts';

let e: FinanceEnv;
let browser: Browser;

test.before(async () => {
  e = await startFinanceEnv();
  installStripeSecrets(e);
  const on = await e.admin.put('/api/v1/finance/settings', { stripeEnabled: true, shareContact: false });
  if (on.status !== 200) throw new Error(on.text);
  browser = await launchBrowser();
});
test.after.always(async () => {
  await browser?.close();
  await e?.stop();
});

/** The finance report's table on the reports page, row by row (header first), white space as plain spaces. */
async function reportTable(page: Page, part: 'current' | 'previous'): Promise<string[][]> {
  const table = page.locator(`table[data-report="finance"][data-part="${part}"]`);
  await table.waitFor();
  type Cell = { textContent: string | null };
  return table.locator('tr').evaluateAll((rows) => (rows as { querySelectorAll(s: string): ArrayLike<Cell> }[]).map((r) => Array.from(r.querySelectorAll('th, td')).map((c) => (c.textContent ?? '').replace(/\s/g, ' ').trim())));
}

async function pageAs(client: Client) {
  const o = await observedPage(browser, e.app.url);
  await o.context.addCookies([
    { name: 'pk_session', value: client.cookies.get('pk_session')!, url: e.app.url },
    { name: 'pk_csrf', value: client.cookies.get('pk_csrf')!, url: e.app.url },
  ]);
  return o;
}

test('quote → payment link → paid by webhook → the finance view and report show the revenue; a receipt', async (t) => {
  const patient = await patientWithPlan(e.admin, { givenName: 'Fiona', familyName: 'Finanzfall' });
  const a11y: Record<string, string[]> = {};
  const doc = await pageAs(e.doctor);
  let reference = '';
  await screenshotOnFailure(doc.page, 'finance-doctor', async () => {
    const { page } = doc;
    await page.goto(`/patients/${patient.id}#quotes`);
    const section = page.getByRole('region', { name: 'Kostenvoranschläge' });
    await section.getByText('Keine Einträge für diesen Filter.').waitFor();
    const item1 = section.getByRole('group', { name: 'Position 1' });
    await item1.getByLabel('Leistung').fill(HEALTH.item);
    await item1.getByLabel('Menge').fill('1');
    await item1.getByLabel('Einzelpreis (netto) (EUR)').fill('3500');
    await section.getByRole('button', { name: 'Position hinzufügen' }).click();
    const item2 = section.getByRole('group', { name: 'Position 2' });
    await item2.getByLabel('Leistung').fill('Pflegeset');
    await item2.getByLabel('Menge').fill('2');
    await item2.getByLabel('Einzelpreis (netto) (EUR)').fill('12,50');
    await item2.getByLabel('USt.').selectOption('standard');
    // a bad amount is refused at its field before anything is sent
    await item2.getByLabel('Einzelpreis (netto) (EUR)').fill('-3');
    await section.getByRole('button', { name: 'Kostenvoranschlag anlegen' }).click();
    t.is(await item2.getByLabel('Einzelpreis (netto) (EUR)').getAttribute('aria-invalid'), 'true');
    await item2.getByLabel('Einzelpreis (netto) (EUR)').fill('12,50');
    await section.getByRole('button', { name: 'Kostenvoranschlag anlegen' }).click();
    const created = await section.getByText(/Kostenvoranschlag KV-[0-9A-Z]{8} angelegt\./).textContent();
    reference = /KV-[0-9A-Z]{8}/.exec(created ?? '')![0];
    a11y.patientSection = seriousViolations(await axeViolations(page));
    await section.getByRole('link', { name: reference }).click();
    await page.getByRole('heading', { level: 1, name: `Kostenvoranschlag ${reference}` }).waitFor();
    // 3500 € exempt + 2 × 12,50 € + 19 % (4,75 €) = 3.529,75 €
    t.is((await page.getByTestId('quote-total').textContent())?.replace(/\s/g, ' '), '3.529,75 €');
    await page.getByRole('rowheader', { name: HEALTH.item }).waitFor();
    a11y.quoteDoctor = seriousViolations(await axeViolations(page));
  }, t.log);
  await doc.context.close();

  const fin = await pageAs(e.finance);
  await screenshotOnFailure(fin.page, 'finance-user', async () => {
    const { page } = fin;
    await page.goto('/');
    await page.getByRole('link', { name: 'Finanzen' }).click();
    await page.getByRole('heading', { level: 1, name: 'Finanzen' }).waitFor();
    a11y.financeEmpty = seriousViolations(await axeViolations(page));
    await page.goto(`/patients/${patient.id}#quotes`);
    await page.getByRole('region', { name: 'Kostenvoranschläge' }).getByRole('link', { name: reference }).click();
    await page.getByRole('heading', { level: 1, name: `Kostenvoranschlag ${reference}` }).waitFor();
    await page.getByText('Leistungsbeschreibungen sind nur für das Behandlungsteam sichtbar.').waitFor();
    t.false((await page.content()).includes(HEALTH.item), 'finance never sees the item description');
    await page.getByRole('button', { name: 'Als versendet markieren' }).click();
    await page.getByText('Status geändert: Versendet.').waitFor();
    await page.getByRole('button', { name: 'Annahme erfassen' }).click();
    await page.getByText('Status geändert: Angenommen.').waitFor();
    await page.getByRole('button', { name: 'Zahlungslink für den offenen Betrag erstellen' }).click();
    await page.getByText('Zahlungslink erstellt. Senden Sie ihn der Patientin oder dem Patienten.').waitFor();
    const href = await page.getByTestId('payment-link').getAttribute('href');
    t.true(href!.startsWith(e.stripe.url), href ?? '');
    t.is(await page.getByTestId('checkout-status').textContent(), 'offen');
    a11y.quoteFinance = seriousViolations(await axeViolations(page));

    // the patient pays at Stripe; Stripe posts the signed event
    const sessionId = href!.split('/').pop()!;
    const paid = e.stripe.pay(sessionId);
    t.is(paid.amount_total, 352_975);
    const res = await e.stripe.send(e.webhookUrl, e.stripe.event('checkout.session.completed', paid).payload);
    t.is(res.status, 200);
    await page.reload();
    await page.getByTestId('checkout-status').filter({ hasText: 'bezahlt' }).waitFor();
    t.is((await page.getByTestId('quote-open').textContent())?.replace(/\s/g, ' '), '0,00 €');
    t.is((await page.getByTestId('quote-paid').textContent())?.replace(/\s/g, ' '), '3.529,75 €');
    await page.getByRole('cell', { name: 'Online (Stripe)' }).waitFor();

    await page.getByRole('link', { name: /^Quittung QT-/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Quittung' }).waitFor();
    t.is((await page.getByTestId('receipt-amount').textContent())?.replace(/\s/g, ' '), '3.529,75 €');
    await page.getByText('Finanzfall').first().waitFor();
    await page.emulateMedia({ media: 'print' });
    t.false(await page.getByRole('navigation', { name: 'Hauptnavigation' }).isVisible(), 'the print view hides the navigation');
    a11y.receiptPrint = seriousViolations(await axeViolations(page));
    await page.emulateMedia({ media: 'screen' });
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 1, name: 'Receipt' }).waitFor();
    t.is((await page.getByTestId('receipt-amount').textContent())?.replace(/\s/g, ' '), '€3,529.75');
    a11y.receiptEnglish = seriousViolations(await axeViolations(page));
    await page.getByRole('button', { name: 'Deutsch' }).click();

    await page.goto('/finance');
    const patients = page.getByRole('table', { name: 'Patientinnen und Patienten' });
    await patients.getByRole('row').filter({ hasText: 'Finanzfall, Fiona' }).waitFor();
    // the practice's year and month (Europe/Berlin), also just after midnight when UTC is still in the day before
    const year = new Intl.DateTimeFormat('en', { year: 'numeric', timeZone: 'Europe/Berlin' }).format(new Date());
    const report = page.getByRole('table', { name: `Finanzbericht ${year} nach Monaten` });
    const month = new Intl.DateTimeFormat('de-DE', { month: 'long', year: 'numeric', timeZone: 'Europe/Berlin' }).format(new Date());
    const row = report.getByRole('row').filter({ has: page.getByRole('rowheader', { name: month }) });
    t.regex((await row.getByTestId('report-payments').textContent())?.replace(/\s/g, ' ') ?? '', /3\.529,75 €/);
    a11y.finance = seriousViolations(await axeViolations(page));

    // the reports page: a finance user sees it with the finance report alone, amounts as money
    await page.getByRole('navigation', { name: 'Hauptnavigation' }).getByRole('link', { name: 'Auswertungen' }).click();
    await page.getByRole('heading', { level: 1, name: 'Auswertungen' }).waitFor();
    const de = await reportTable(page, 'current');
    t.deepEqual(await page.locator('section.report h2').allTextContents(), ['Finanzen: Kostenvoranschläge, Anzahlungen, Zahlungen, offene Beträge'], 'no other report');
    t.deepEqual(de[0], ['Periode', 'Kostenvoranschläge versendet', 'Anzahlungen angefordert', 'Zahlungseingänge', 'Erstattungen', 'Offen am Periodenende', 'Zahlende Patienten']);
    // this week: the quote sent and paid in full, nothing open, one paying patient (fewer than 5: hidden)
    t.regex(de.at(-1)![0], /^Woche ab \d{2}\.\d{2}\.\d{4}$/);
    t.deepEqual(de.at(-1)!.slice(1), ['3.529,75 €', '0,00 €', '3.529,75 €', '0,00 €', '0,00 €', '< 5']);
    t.true(de.slice(1, -1).every((row) => row.slice(1, 6).every((c) => c === '0,00 €')), 'the weeks before are empty');
    t.is(await page.locator('table[data-report="finance"][data-part="previous"]').count(), 1, 'the previous period as well');
    t.is(await page.locator('#report-finance').locator('xpath=..').locator('.report-chart canvas').count(), 1, 'a chart is drawn');
    t.is(await page.getByRole('heading', { name: 'Einstellungen der Auswertungen' }).count(), 0, 'the report settings are for admins');
    a11y.reports = seriousViolations(await axeViolations(page));
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 1, name: 'Reports' }).waitFor();
    const en = await reportTable(page, 'current');
    t.deepEqual(en[0].slice(1, 4), ['Quotes sent', 'Deposits requested', 'Payments received']);
    t.deepEqual(en.at(-1)!.slice(1), ['€3,529.75', '€0.00', '€3,529.75', '€0.00', '€0.00', '< 5']);
    a11y.reportsEnglish = seriousViolations(await axeViolations(page));
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download CSV: Finance: quotes, deposits, payments, open amounts' }).click(),
    ]);
    const csv = (await readFile((await download.path())!, 'utf8')).replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    t.is(csv[0], 'Range,Period,Quotes sent (EUR cents),Deposits requested (EUR cents),Payments received (EUR cents),Refunds (EUR cents),Open at the end of the period (EUR cents),Paying patients');
    t.regex(csv.filter((l) => l.startsWith('current,')).at(-1)!, /^current,\d{4}-\d{2}-\d{2},352975,0,352975,0,0,$/);
    await page.getByRole('link', { name: 'Print view' }).click();
    await page.waitForURL(/\/reports\/print\?/);
    t.deepEqual((await reportTable(page, 'current')).at(-1)!.slice(1), ['€3,529.75', '€0.00', '€3,529.75', '€0.00', '€0.00', '< 5']);
    a11y.reportsPrint = seriousViolations(await axeViolations(page));
    await page.getByRole('button', { name: 'Deutsch' }).click();
  }, t.log);
  t.deepEqual(fin.console.filter((l) => l.startsWith('pageerror')), [], 'no uncaught errors');
  t.deepEqual(fin.cspViolations(), [], 'no Content-Security-Policy violation');
  await fin.context.close();

  // Stripe's return page for the (signed-out) patient
  const anon = await observedPage(browser, e.app.url);
  await anon.page.goto('/payment-complete?result=paid');
  await anon.page.getByRole('heading', { level: 1, name: 'Vielen Dank für Ihre Zahlung' }).waitFor();
  a11y.paymentComplete = seriousViolations(await axeViolations(anon.page));
  await anon.context.close();

  t.deepEqual(a11y, { patientSection: [], quoteDoctor: [], financeEmpty: [], quoteFinance: [], receiptPrint: [], receiptEnglish: [], finance: [], reports: [], reportsEnglish: [], reportsPrint: [], paymentComplete: [] }, 'no serious or critical axe-core violations');
});
