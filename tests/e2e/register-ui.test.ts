// Issue 12 item 7 and issue 13 item 7 in the browser (build first: `npm run build`). On a server
// without backup targets "Backup now" is disabled and says why; the operator adds an SFTP target
// (a real OpenSSH server on loopback, host key pinned), tests it, and runs a backup to it; the
// schedules read in words; the register of external services lists the target and its print view
// prints; axe-core on every new page, in German and English.
import anyTest, { type TestFn } from 'ava';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { axeViolations, launchBrowser, observedPage, screenshotOnFailure, seriousViolations } from '../helpers/browser.ts';
import { startSshd, type Sshd } from '../helpers/sshd.ts';
import { PG_BIN_DIR } from '../integration/backup-fixtures.ts';
import { completeSetup, confirmRecoveryCodes, openAdminMenu } from './ui-steps.ts';

const test = anyTest as TestFn<{ app: TestApp; browser: Browser; sshd: Sshd; work: string }>;

test.before(async (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'pk-register-ui-'));
  delete process.env.PRAXISKERN_BACKUP_TARGETS; // no target from the configuration
  if (PG_BIN_DIR) process.env.PRAXISKERN_PG_BIN_DIR = PG_BIN_DIR;
  const sshd = await startSshd();
  mkdirSync(path.join(sshd.root, 'praxiskern'));
  t.context = { app: await startTestApp(), browser: await launchBrowser(), sshd, work };
});

test.after.always(async (t) => {
  await t.context.browser?.close();
  await t.context.app?.stop();
  await t.context.app?.db.drop();
  await t.context.sshd?.stop();
  if (t.context.work) rmSync(t.context.work, { recursive: true, force: true });
});

test('no target: "Backup now" disabled with its reason; add an SFTP target, test it, back up to it; the register and its print view', async (t) => {
  const { app, browser, sshd, work } = t.context;
  const o = await observedPage(browser, app.url);
  const { page } = o;
  const a11y: Record<string, string[]> = {};

  await screenshotOnFailure(page, 'register-ui', async () => {
    await completeSetup(page);
    await confirmRecoveryCodes(page);
    const nav = page.getByRole('navigation', { name: 'Hauptnavigation' });
    await openAdminMenu(page);
    await nav.getByRole('link', { name: 'Datensicherung' }).click();
    await page.waitForURL('**/admin/backup');

    // ---- no target: the button is disabled and says why; the schedules read in words ----
    const run = page.getByRole('button', { name: 'Jetzt sichern' });
    await run.waitFor();
    t.true(await run.isDisabled(), '"Backup now" is disabled without a target');
    const reason = await page.locator(`#${await run.getAttribute('aria-describedby')}`).textContent();
    t.regex(reason ?? '', /erst möglich, wenn ein Sicherungsziel eingerichtet ist/);
    await page.getByText('täglich um 02:30 (Serverzeit)').waitFor();
    await page.getByText('sonntags um 04:30 (Serverzeit)').waitFor();
    a11y.backupNoTarget = seriousViolations(await axeViolations(page));

    // ---- add an SFTP target ----
    const manage = page.getByRole('region', { name: 'Sicherungsziele verwalten' });
    await manage.getByRole('button', { name: 'Ziel hinzufügen' }).click();
    await manage.getByLabel('Name', { exact: true }).fill('storagebox');
    await manage.getByLabel('Server', { exact: true }).fill(sshd.host);
    await manage.getByLabel('Port').fill('99999');
    await manage.getByLabel('Benutzer', { exact: true }).fill(sshd.username);
    await manage.getByLabel(/Verzeichnis auf dem Server/).fill('praxiskern');
    await manage.getByLabel('Host-Key-Fingerabdruck').fill(sshd.hostKeyFingerprint);
    await manage.getByLabel('Privater SSH-Schlüssel').fill(sshd.clientKey.privateKey);
    a11y.targetForm = seriousViolations(await axeViolations(page));
    await manage.getByRole('button', { name: 'Speichern' }).click();
    // A bad port is named at its field; the rest of the input stays.
    await manage.getByLabel('Port').and(page.locator('[aria-invalid="true"]')).waitFor();
    await manage.getByLabel('Port').fill(String(sshd.port));
    await manage.getByRole('button', { name: 'Speichern' }).click();
    await manage.getByText('Sicherungsziel „storagebox“ wurde angelegt.').waitFor();
    const row = manage.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /storagebox/ }) });
    await row.getByText('in der Oberfläche angelegt').waitFor();
    t.false(((await page.content()) ?? '').includes('PRIVATE KEY'), 'the key is not shown again');

    // ---- test connection ----
    await row.getByRole('button', { name: 'Verbindung testen' }).click();
    await manage.getByText(/Verbindung zu „storagebox“ geprüft: Testdatei geschrieben, gelesen und gelöscht/).waitFor();
    a11y.targetTested = seriousViolations(await axeViolations(page));

    // ---- backup now ----
    t.false(await run.isDisabled(), 'with a target, a backup can start');
    await run.click();
    await page.getByRole('status').getByText('Die Sicherung ist abgeschlossen.').waitFor({ timeout: 120_000 });
    t.true(readdirSync(path.join(sshd.root, 'praxiskern')).length > 0, 'the snapshot is on the SFTP server');
    await page.getByRole('table', { name: 'Ziel „storagebox“' }).waitFor();

    // ---- the register of external services ----
    await openAdminMenu(page);
    await nav.getByRole('link', { name: 'Externe Dienste' }).click();
    await page.waitForURL('**/admin/services');
    await page.getByRole('heading', { level: 1, name: 'Externe Dienste (Sub-Auftragsverarbeiter)' }).waitFor();
    const box = page.locator('tr[data-key="backup:storagebox"]');
    await box.waitFor();
    t.regex((await box.textContent()) ?? '', /Datensicherung \(außer Haus\).*mit age verschlüsselt.*Nein \(EU\/EWR\).*aktiv seit \d{2}\.\d{2}\.\d{4}/s);
    t.regex((await page.locator('tr[data-key="hosting:server"]').textContent()) ?? '', /Hetzner Online GmbH/);
    await page.getByRole('heading', { name: 'Änderungen' }).waitFor();
    a11y.register = seriousViolations(await axeViolations(page));

    // CSV export: translated header, cells quoted.
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Als CSV exportieren' }).click()]);
    const csvText = readFileSync(await csv.path(), 'utf8');
    t.regex(csvText, /^\uFEFF"Dienst","Zweck","Verarbeitete Daten"/);
    t.true(csvText.includes('"storagebox ('));
    const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Als JSON exportieren' }).click()]);
    const exported = JSON.parse(readFileSync(await json.path(), 'utf8'));
    t.is(exported.language, 'de');
    t.true(exported.entries.some((e: { key: string; words: { purpose: string } }) => e.key === 'backup:storagebox' && e.words.purpose === 'Datensicherung (außer Haus)'));

    // Print view, in English too.
    await page.getByRole('link', { name: 'Druckansicht' }).click();
    await page.waitForURL('**/admin/services/print');
    await page.getByRole('heading', { level: 1, name: 'Verzeichnis der Sub-Auftragsverarbeiter (Anlage 2)' }).waitFor();
    await page.locator('tr[data-key="backup:storagebox"]').waitFor();
    a11y.printDe = seriousViolations(await axeViolations(page));
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 1, name: 'Register of sub-processors (Annex 2)' }).waitFor();
    t.regex((await page.locator('tr[data-key="backup:storagebox"]').textContent()) ?? '', /Off-site backup.*No \(EU\/EEA\).*on since/s);
    await page.emulateMedia({ media: 'print' });
    t.false(await page.getByRole('navigation', { name: 'Main navigation' }).isVisible(), 'the navigation is not printed');
    t.false(await page.getByRole('button', { name: 'Print' }).isVisible(), 'nor the buttons');
    await page.pdf({ path: path.join(work, 'register.pdf') });
    t.true(readFileSync(path.join(work, 'register.pdf')).subarray(0, 5).toString() === '%PDF-', 'the print view prints');
    await page.emulateMedia({ media: 'screen' });
    a11y.printEn = seriousViolations(await axeViolations(page));
  }, t.log);

  t.deepEqual(a11y, { backupNoTarget: [], targetForm: [], targetTested: [], register: [], printDe: [], printEn: [] }, 'no serious or critical axe-core violations');
  t.deepEqual(o.cspViolations(), [], 'no Content-Security-Policy violation on any page');
  t.deepEqual(o.console.filter((l) => l.startsWith('pageerror')), [], 'no uncaught errors');
  await o.context.close();
});
