// Unattended set-up for automation: praxiskern init with flags and files, no prompts, idempotent.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase } from '../helpers/pg.ts';
import { startTestApp, currentTotp } from '../helpers/app.ts';

const run = promisify(execFile);

test('praxiskern init sets up organization, admin and passphrase; a second run changes nothing', async (t) => {
  const db = await createTestDatabase();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pk-init-'));
  t.teardown(() => db.drop());
  const pw = path.join(dataDir, 'admin.pw');
  const pp = path.join(dataDir, 'pass.pp');
  writeFileSync(pw, 'an admin password that is long\n', { mode: 0o600 });
  writeFileSync(pp, 'the practice passphrase\n', { mode: 0o600 });
  const env = { ...process.env, PRAXISKERN_DATA_DIR: dataDir, DATABASE_URL: db.appUrl, DATABASE_OWNER_URL: db.ownerUrl, LOG_LEVEL: 'silent' };
  const args = ['appliance/src/cli.ts', 'init', '--org-name', 'Praxis Nord', '--org-slug', 'praxis-nord', '--admin-username', 'it-admin',
    '--admin-password-file', pw, '--passphrase-file', pp, '--json'];
  const first = JSON.parse((await run('node_modules/.bin/node', args, { env })).stdout);
  t.true(first.initialized);
  t.regex(first.totpSecret, /^[A-Z2-7]{32}$/);
  t.is(first.recoveryCodes.length, 10);
  const second = JSON.parse((await run('node_modules/.bin/node', args, { env })).stdout);
  t.deepEqual(second, { ok: true, initialized: false, reason: 'already initialized' });

  const missing = await run('node_modules/.bin/node', ['appliance/src/cli.ts', 'init', '--org-name', 'X'], { env }).catch((e) => e);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /--org-slug is required/);

  // The server started on that database comes up sealed and unseals with the passphrase.
  const app = await startTestApp({}, { db, dataDir });
  t.teardown(() => app.stop());
  t.true(app.services.seal.isSealed);
  await app.services.seal.unseal(app.services.db, 'the practice passphrase');
  t.false(app.services.seal.isSealed);
  t.truthy(currentTotp(first.totpSecret));
});
