import { loadConfig } from '@praxiskern/api/core/config.ts';
import { migrate, buildServices } from '@praxiskern/api/server.ts';
import { createDb } from '@praxiskern/api/db/connection.ts';
import { provisionDatabase } from '@praxiskern/api/db/provision.ts';
import { runSetup } from '@praxiskern/api/modules/setup/setup.service.ts';
import { isInitialized } from '@praxiskern/api/modules/setup/setup.repository.ts';
import { newTotpSecret, otpauthUrl } from '@praxiskern/api/modules/auth/totp.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRecoveryKit } from '@praxiskern/api/modules/backup/kit.service.ts';
import { adminRequest } from './admin-client.ts';
import { readSecret } from './read-secret.ts';
import { output, fail, type Command } from './command.ts';
import { userCommands } from './user-commands.ts';
import { operatorCommands } from './operator-commands.ts';
import { patientCommands } from './patient-commands.ts';
import { backupCommands } from './backup-commands.ts';
import { auditCommands } from './audit-commands.ts';
import { updateCommands } from './update-commands.ts';
import { icdCommands } from './icd-commands.ts';
import { cliDatabase } from './database.ts';
import { start } from './start-command.ts';

/** Runs fn with the database (the running server's, or embedded started for this command; migrations applied when the owner role is at hand). */
async function withDatabase<T>(fn: (urls: { appUrl: string; ownerUrl: string | undefined }) => Promise<T>): Promise<T> {
  const urls = await cliDatabase(loadConfig());
  try {
    // Without the owner role (the bundle's app container) the init container has migrated already.
    if (urls.ownerUrl) await migrate(urls.ownerUrl);
    return await fn(urls);
  } finally {
    await urls.stop();
  }
}

const init: Command = {
  usage: `praxiskern init --org-name NAME --org-slug SLUG --admin-username USER --admin-password-file FILE --passphrase-file FILE
                [--admin-display-name NAME] [--admin-email MAIL] [--locale de|en] [--recovery-kit-file FILE] [--json]
Unattended first-run setup. Prints the administrator's TOTP secret and recovery codes once, and writes
the printable backup recovery kit (the offline age identity) to --recovery-kit-file (mode 0600):
print it, store it offline, then delete the file.
Exits 0 without changes when Praxiskern is already set up.`,
  options: {
    'org-name': { type: 'string' }, 'org-slug': { type: 'string' }, 'admin-username': { type: 'string' },
    'admin-display-name': { type: 'string' }, 'admin-email': { type: 'string' }, 'admin-password-file': { type: 'string' },
    'passphrase-file': { type: 'string' }, locale: { type: 'string' }, 'recovery-kit-file': { type: 'string' },
  },
  async run(v) {
    for (const f of ['org-name', 'org-slug', 'admin-username', 'admin-password-file', 'passphrase-file']) if (!v[f]) fail(`--${f} is required`);
    return withDatabase(async ({ appUrl }) => {
      const config = loadConfig();
      const db = createDb(appUrl, 2);
      try {
        if (await isInitialized(db)) {
          output(v, { initialized: false, reason: 'already initialized' }, 'Praxiskern is already set up; nothing changed.');
          return 0;
        }
        const services = buildServices(config, db);
        const totpSecret = newTotpSecret();
        const username = String(v['admin-username']);
        const result = await runSetup(services, {
          organizationName: String(v['org-name']),
          organizationSlug: String(v['org-slug']),
          adminUsername: username,
          adminDisplayName: String(v['admin-display-name'] ?? username),
          adminEmail: v['admin-email'] ? String(v['admin-email']) : undefined,
          adminPassword: readFileSync(String(v['admin-password-file']), 'utf8').replace(/\r?\n$/, ''),
          passphrase: readFileSync(String(v['passphrase-file']), 'utf8').replace(/\r?\n$/, ''),
          totpSecret,
          locale: v.locale === 'en' ? 'en' : 'de',
        });
        const kit = await createRecoveryKit(services, { organization: String(v['org-name']) });
        if (v['recovery-kit-file']) writeFileSync(String(v['recovery-kit-file']), kit.html, { mode: 0o600 });
        const recoveryKit = { recipient: kit.recipient, ...(v['recovery-kit-file'] ? { file: v['recovery-kit-file'] } : { identity: kit.identity }) };
        output(
          v,
          { initialized: true, ...result, totpSecret, otpauthUrl: otpauthUrl('Praxiskern', username, totpSecret), recoveryKit },
          `Praxiskern is set up (installation ${result.installationId}).\nTOTP secret for ${username}: ${totpSecret}\nRecovery codes (store them offline):\n  ${result.recoveryCodes.join('\n  ')}\n` +
            (v['recovery-kit-file'] ? `Backup recovery kit written to ${v['recovery-kit-file']}: print it, store it offline, delete the file.` : `Backup recovery identity (store it offline): ${kit.identity}`),
        );
        return 0;
      } finally {
        await db.destroy();
      }
    });
  },
};

const unseal: Command = {
  usage: 'praxiskern unseal [--passphrase-file FILE] [--json]   unseal the running server',
  options: { 'passphrase-file': { type: 'string' } },
  async run(v) {
    const passphrase = await readSecret(v['passphrase-file'], 'Practice passphrase: ', '--passphrase-file');
    const res = await adminRequest('POST', '/unseal', { passphrase });
    if (res.status !== 200) fail(String(res.body.message ?? `unseal failed (${res.status})`));
    output(v, { sealed: false }, 'Unsealed.');
    return 0;
  },
};

const status: Command = {
  usage: 'praxiskern status [--json]   seal and setup state, version and migrations (applied, last, pending) of the running server',
  options: {},
  async run(v) {
    const res = await adminRequest('GET', '/status');
    if (res.status !== 200) fail(String(res.body.message));
    const b = res.body;
    const left = Array.isArray(b.recoveryKitFilesOnServer) ? (b.recoveryKitFilesOnServer as string[]) : [];
    const warning = left.length
      ? `\nWARNING: recovery-kit files are still on this server: ${left.join(', ')}. Move them to the clinic's recovery kit and shred them (docs/runbooks/PraxiskernRecoveryKitOnServer.md).`
      : '';
    const m = b.migrations as { applied: number; last: string | null; pending: string[] } | null | undefined;
    const schema = m ? `; migrations: ${m.applied} applied (last ${m.last ?? 'none'})${m.pending.length ? `, PENDING: ${m.pending.join(', ')}` : ''}` : '';
    output(v, b, `version ${b.version}; ${b.initialized ? 'set up' : 'not set up'}; ${b.sealed ? 'SEALED' : 'unsealed'}${schema}${warning}`);
    return 0;
  },
};

const migrateCmd: Command = {
  usage: 'praxiskern migrate [--json]   apply pending database migrations',
  options: {},
  async run(v) {
    const urls = await cliDatabase(loadConfig());
    try {
      const applied = await migrate(urls.ownerUrl);
      output(v, { applied }, applied.length ? `Applied: ${applied.join(', ')}` : 'The database is up to date.');
      return 0;
    } finally {
      await urls.stop();
    }
  },
};

const provision: Command = {
  usage: `praxiskern db provision [--migrate] [--json]
Creates the roles praxiskern_owner and praxiskern_app and the database; --migrate then applies the
migrations as the owner (the bundle's one-shot init container: the app never holds the owner role).
Environment: DATABASE_SUPERUSER_URL, PRAXISKERN_DB_OWNER_PASSWORD_FILE, PRAXISKERN_DB_APP_PASSWORD_FILE,
PRAXISKERN_DB_NAME (praxiskern), and DATABASE_OWNER_URL for --migrate.`,
  options: { migrate: { type: 'boolean' } },
  async run(v) {
    const env = process.env;
    if (!env.DATABASE_SUPERUSER_URL) fail('DATABASE_SUPERUSER_URL is required');
    if (!env.PRAXISKERN_DB_OWNER_PASSWORD_FILE || !env.PRAXISKERN_DB_APP_PASSWORD_FILE) fail('PRAXISKERN_DB_OWNER_PASSWORD_FILE and PRAXISKERN_DB_APP_PASSWORD_FILE are required');
    const read = (f: string) => readFileSync(f, 'utf8').trim();
    const name = env.PRAXISKERN_DB_NAME || 'praxiskern';
    await provisionDatabase(env.DATABASE_SUPERUSER_URL, name, {
      ownerPassword: read(env.PRAXISKERN_DB_OWNER_PASSWORD_FILE),
      appPassword: read(env.PRAXISKERN_DB_APP_PASSWORD_FILE),
    });
    const applied = v.migrate ? await migrate(loadConfig().ownerDatabaseUrl) : [];
    output(v, { database: name, applied }, `Database ${name} and its roles are ready.${applied.length ? ` Applied: ${applied.join(', ')}` : ''}`);
    return 0;
  },
};

export const commands: Record<string, Command> = {
  start, init, unseal, status, migrate: migrateCmd, 'db provision': provision, ...auditCommands, ...userCommands, ...operatorCommands, ...patientCommands, ...backupCommands, ...updateCommands, ...icdCommands,
};
