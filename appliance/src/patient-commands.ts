// `praxiskern demo-data --patients N`: synthetic patients (no real people) for demos and benchmarks.
// Unseals in-process with the practice passphrase (the data keys need the master key).
import { loadConfig } from '@praxiskern/api/core/config.ts';
import { runWithContext, systemContext } from '@praxiskern/api/core/context.ts';
import { createDb, withScope } from '@praxiskern/api/db/connection.ts';
import { buildServices, migrate } from '@praxiskern/api/server.ts';
import { generateDemoPatients } from '@praxiskern/api/modules/patients/demo-data.service.ts';
import { readSecret } from './read-secret.ts';
import { fail, output, type Command } from './command.ts';
import { cliDatabase } from './database.ts';

const demoData: Command = {
  usage: `praxiskern demo-data --patients N [--organization SLUG] [--passphrase-file FILE] [--json]
Creates N synthetic patients (invented names, fictional phone numbers, example.org e-mail) with an
anamnesis each, in the organization SLUG (default: the only one). Needs the practice passphrase.`,
  options: { patients: { type: 'string' }, organization: { type: 'string' }, 'passphrase-file': { type: 'string' } },
  async run(v) {
    const n = Number(v.patients);
    if (!Number.isInteger(n) || n < 1 || n > 10_000_000) fail('--patients must be a whole number between 1 and 10000000');
    const config = loadConfig();
    const urls = await cliDatabase(config);
    const db = createDb(urls.appUrl, 4);
    try {
      if (urls.ownerUrl) await migrate(urls.ownerUrl);
      const services = buildServices(config, db);
      await services.seal.unseal(db, await readSecret(v['passphrase-file'], 'Practice passphrase: ', '--passphrase-file'));
      const orgs = await withScope(db, { organizationId: null, platform: true }, (trx) => trx('organizations').select('id', 'slug'));
      const org = v.organization ? orgs.find((o: { slug: string }) => o.slug === v.organization) : orgs.length === 1 ? orgs[0] : undefined;
      if (!org) fail(v.organization ? `no organization with slug ${v.organization}` : `there are ${orgs.length} organizations; name one with --organization`);
      const admin = await withScope(db, { organizationId: org.id }, (trx) => trx('users').whereRaw(`'admin' = any(roles)`).first('id'));
      if (!admin) fail('the organization has no administrator to record as the creator');
      const started = Date.now();
      const actor = { userId: admin.id, organizationId: org.id, roles: ['admin' as const], sessionId: admin.id };
      const result = await runWithContext(systemContext('demo-data', actor), () =>
        generateDemoPatients(services, n, (done) => {
          if (!v.json) process.stderr.write(`\r${done}/${n} patients (${Math.round(done / ((Date.now() - started) / 1000))}/s)`);
        }),
      );
      if (!v.json) process.stderr.write('\n');
      output(v, { ...result, organization: org.slug, seconds: (Date.now() - started) / 1000 }, `Created ${result.created} demo patients in ${org.slug}.`);
      return 0;
    } finally {
      await db.destroy();
      await urls.stop();
    }
  },
};

export const patientCommands: Record<string, Command> = { 'demo-data': demoData };
