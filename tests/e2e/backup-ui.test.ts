// Backups in the browser against the real server (build first: `npm run build`): the recovery kit
// step of the first-run setup (download of the printable kit, confirmation before going on), then
// the backup page: "Backup now" until the snapshot is listed and the target reports success, a
// restore drill, and a new recovery kit behind its confirmation. Every page is checked with
// axe-core and for Content-Security-Policy violations in the console.
import anyTest, { type TestFn } from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { decryptFile, identityToRecipient } from '../../app/api/src/modules/backup/age/index.ts';
import { manifestPath } from '../../app/api/src/modules/backup/manifest.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { axeViolations, launchBrowser, observedPage, screenshotOnFailure, seriousViolations } from '../helpers/browser.ts';
import { PG_BIN_DIR } from '../integration/backup-fixtures.ts';
import { completeSetup, openAdminMenu } from './ui-steps.ts';

const test = anyTest as TestFn<{ app: TestApp; browser: Browser; work: string }>;

test.before(async (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'pk-backup-ui-'));
  // The backup runtime reads the process environment, as in the appliance (same variables as
  // tests/integration/backup-fixtures.ts; no extra offline recipient: the setup's kit is the only one).
  const target = path.join(work, 'target');
  mkdirSync(target); // a local target must exist (a mounted disk), the backup does not create it
  process.env.PRAXISKERN_BACKUP_TARGETS = `local:${target}`;
  if (PG_BIN_DIR) process.env.PRAXISKERN_PG_BIN_DIR = PG_BIN_DIR;
  t.context = { app: await startTestApp(), browser: await launchBrowser(), work };
});

test.after.always(async (t) => {
  await t.context.browser?.close();
  await t.context.app?.stop();
  await t.context.app?.db.drop();
  if (t.context.work) rmSync(t.context.work, { recursive: true, force: true });
});

/** The identity as the printable page shows it: grouped with zero-width spaces for line breaks. */
const pageText = (html: string) => html.replace(/&#8203;/g, '');

test('setup hands out the recovery kit once; the backup page runs a backup and a drill and shows them', async (t) => {
  const { app, browser, work } = t.context;
  const o = await observedPage(browser, app.url);
  const { page } = o;
  const a11y: Record<string, string[]> = {};
  let identity = '';
  let kitSigner = '';

  await screenshotOnFailure(page, 'backup-ui', async () => {
    // ---- setup: recovery codes, then the recovery kit ----
    await completeSetup(page);
    await page.getByLabel('Ich habe die Wiederherstellungscodes sicher gespeichert.').check();
    await page.getByRole('button', { name: 'Weiter', exact: true }).click();

    await page.getByRole('heading', { level: 1, name: 'Notfallschlüssel für Ihre Datensicherungen' }).waitFor();
    t.regex((await page.locator('.alert-warning').textContent()) ?? '', /offline aufbewahren – nicht auf dem Server/);
    const proceed = page.getByRole('button', { name: 'Weiter zu Praxiskern' });
    t.true(await proceed.isDisabled(), 'continuing needs the confirmation');

    identity = ((await page.locator('#setup-kit-identity').textContent()) ?? '').trim();
    t.regex(identity, /^AGE-SECRET-KEY-1[0-9A-Z]{58}$/, 'the offline identity is shown in full');
    const installationId = ((await page.locator('.kit-facts dd').textContent()) ?? '').trim();
    t.true(installationId.length > 0, 'the installation id is shown');
    a11y.kit = seriousViolations(await axeViolations(page));

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Druckbares Wiederherstellungs-Kit herunterladen' }).click(),
    ]);
    t.is(download.suggestedFilename(), `praxiskern-recovery-kit-${installationId}.html`);
    const html = readFileSync(await download.path(), 'utf8');
    t.regex(html, /^<!doctype html>/i, 'the kit is an HTML page');
    t.true(pageText(html).includes(identity), 'the printable kit holds the identity');
    t.true(pageText(html).includes(identityToRecipient(identity)), 'and the recipient it belongs to');
    const signerLine = /# praxiskern-backup-signer: (MCowBQYDK2VwAyEA[A-Za-z0-9+/]{43}=)/.exec(pageText(html));
    t.truthy(signerLine, 'and the public key the backups are signed with, as a comment line of the identity file');
    kitSigner = signerLine?.[1] ?? '';

    // Clicking without the confirmation does nothing; with it, the app opens.
    await proceed.click({ force: true });
    await page.getByRole('heading', { level: 1, name: 'Notfallschlüssel für Ihre Datensicherungen' }).waitFor();
    await page.getByLabel(/Ich habe das Wiederherstellungs-Kit ausgedruckt oder offline gespeichert/).check();
    t.false(await proceed.isDisabled());
    await proceed.click();
    await page.getByRole('navigation', { name: 'Hauptnavigation' }).waitFor();

    // ---- the backup page ----
    await (await openAdminMenu(page)).getByRole('link', { name: 'Datensicherung' }).click();
    await page.waitForURL('**/admin/backup');
    await page.getByRole('heading', { level: 1, name: 'Datensicherung' }).waitFor();
    const targets = page.getByRole('table', { name: 'Sicherungsziele' });
    const targetRow = targets.getByRole('row').filter({ has: page.getByRole('rowheader', { name: /local/ }) });
    await targetRow.getByText('noch nicht gesichert').waitFor();
    const snapshots = page.getByRole('table', { name: 'Ziel „local“' });
    await page.getByText('Noch kein vollständiger Sicherungsstand.').waitFor();
    await page.getByText('Es wurde noch keine Wiederherstellungsprobe durchgeführt.').waitFor();
    a11y.backupEmpty = seriousViolations(await axeViolations(page));

    // Backup now: a visible running state, then success, the snapshot in the list, the target OK.
    await page.getByRole('button', { name: 'Jetzt sichern' }).click();
    await page.getByRole('status').getByText('Sicherung läuft …').waitFor();
    t.true(await page.getByRole('button', { name: 'Jetzt sichern' }).isDisabled(), 'no second start while it runs');
    t.is(await page.getByRole('progressbar', { name: 'Sicherung läuft …' }).count(), 1, 'a progress bar while it runs');
    await page.getByRole('status').getByText('Die Sicherung ist abgeschlossen.').waitFor({ timeout: 90_000 });
    await snapshots.waitFor();
    t.is(await snapshots.locator('tbody tr').count(), 1, 'one snapshot listed');
    await targetRow.getByText('in Ordnung').waitFor();
    t.regex((await targetRow.textContent()) ?? '', /in Ordnung.*\d{2}\.\d{2}\.\d{4}.*(kB|MB)\s*1$/s, 'last success, size and count per target');
    a11y.backupDone = seriousViolations(await axeViolations(page));

    // The kit from the setup opens the snapshot: its manifest decrypts with the downloaded identity.
    const snapshotId = ((await snapshots.locator('tbody tr code').textContent()) ?? '').trim();
    const manifestFile = path.join(work, 'manifest.json');
    await decryptFile(path.join(work, 'target', manifestPath(snapshotId)), manifestFile, [identity]);
    t.is(JSON.parse(readFileSync(manifestFile, 'utf8')).snapshotId, snapshotId, 'the downloaded identity decrypts the snapshot');
    t.is(JSON.parse(readFileSync(manifestFile, 'utf8')).signer, kitSigner, 'the snapshot is signed with the key the kit names');

    // A restore drill, followed the same way; the last drill is shown with its result.
    await page.getByRole('button', { name: 'Wiederherstellungsprobe starten' }).click();
    await page.getByRole('status').getByText('Wiederherstellungsprobe läuft …').waitFor();
    await page.getByRole('status').getByText('Die Wiederherstellungsprobe war erfolgreich.').waitFor({ timeout: 120_000 });
    const drill = page.getByRole('region', { name: 'Letzte Wiederherstellungsprobe' });
    await drill.getByText('erfolgreich', { exact: true }).waitFor();

    // A new recovery kit needs the acknowledgement that older backups still need the old one.
    const kitRegion = page.getByRole('region', { name: 'Offline-Notfallschlüssel' });
    await kitRegion.getByRole('button', { name: 'Neues Wiederherstellungs-Kit erstellen …' }).click();
    await kitRegion.getByText(/Alle bisherigen Sicherungen lassen sich weiterhin nur mit dem bisherigen Kit zurückspielen/).waitFor();
    await kitRegion.getByRole('button', { name: 'Neues Kit erstellen' }).click();
    await kitRegion.getByText('Bitte bestätigen Sie, dass Sie das bisherige Kit weiter aufbewahren.').waitFor();
    await kitRegion.getByLabel(/ältere Sicherungen weiterhin das bisherige Kit brauchen/).check();
    await kitRegion.getByRole('button', { name: 'Neues Kit erstellen' }).click();
    await kitRegion.getByText(/Das neue Wiederherstellungs-Kit ist erstellt/).waitFor();
    const newIdentity = ((await page.locator('#new-kit-identity').textContent()) ?? '').trim();
    t.regex(newIdentity, /^AGE-SECRET-KEY-1/);
    t.not(newIdentity, identity, 'a new key');
    const [again] = await Promise.all([page.waitForEvent('download'), kitRegion.getByRole('link', { name: 'Druckbares Wiederherstellungs-Kit herunterladen' }).click()]);
    t.true(pageText(readFileSync(await again.path(), 'utf8')).includes(newIdentity), 'the new kit downloads with the new identity');
    a11y.newKit = seriousViolations(await axeViolations(page));
    await kitRegion.getByLabel('Ich habe das neue Kit ausgedruckt oder offline gespeichert und sicher verwahrt.').check();
    await kitRegion.getByRole('button', { name: 'Fertig' }).click();
    await kitRegion.getByRole('button', { name: 'Neues Wiederherstellungs-Kit erstellen …' }).waitFor();
    t.is(await page.locator('#new-kit-identity').count(), 0, 'the kit is gone from the page once stored');
  }, t.log);

  t.deepEqual(a11y, { kit: [], backupEmpty: [], backupDone: [], newKit: [] }, 'no serious or critical axe-core violations');
  t.deepEqual(o.cspViolations(), [], 'no Content-Security-Policy violation on any page');
  t.deepEqual(o.console.filter((l) => l.startsWith('pageerror')), [], 'no uncaught errors');
  await o.context.close();
});
