// A unix socket (mode 0600, in a 0700 directory; PRAXISKERN_ADMIN_SOCKET, default $PRAXISKERN_DATA_DIR/run/admin.sock) for the `praxiskern` CLI on the same host:
// status and unseal without a browser session. Whoever can open it is root or the service user.
import http from 'node:http';
import { chmodSync } from 'node:fs';
import type { Services } from './http/services.ts';
import { unsealWithLimits } from './modules/keystore/seal.routes.ts';
import { AppError } from './core/errors.ts';
import { isInitialized } from './modules/setup/setup.repository.ts';
import { runWithContext, systemContext } from './core/context.ts';
import { ensureSocketDir } from './server.ts';
import { recoveryKitFindings } from './modules/installation/host-checks.service.ts';
import { migrationState, migrationSummary } from './db/migrate.ts';

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  let raw = '';
  for await (const chunk of req) {
    raw += chunk;
    if (raw.length > 10_000) throw new AppError(413, 'payload_too_large', 'body too large');
  }
  return raw ? JSON.parse(raw) : {};
}

export async function startAdminSocket(services: Services, socketPath: string): Promise<{ close(): Promise<void>; path: string }> {
  ensureSocketDir(socketPath);
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    runWithContext(systemContext('admin-socket'), async () => {
      try {
        if (req.method === 'GET' && req.url === '/status') {
          const kit = await recoveryKitFindings(services.db);
          // The schema as the database has it (null when this process cannot read knex_migrations).
          const migrations = await migrationState(services.db).then(migrationSummary, () => null);
          reply(200, {
            sealed: services.seal.isSealed, initialized: await isInitialized(services.db), version: services.version, migrations,
            recoveryKitFilesOnServer: kit.files, recoveryKitCheckedAt: kit.checkedAt,
          });
        } else if (req.method === 'POST' && req.url === '/unseal') {
          const body = await readJson(req);
          if (typeof body.passphrase !== 'string') throw new AppError(400, 'validation_failed', 'passphrase: is required');
          if (services.seal.isSealed) await unsealWithLimits(services, body.passphrase, 'cli');
          reply(200, { sealed: false });
        } else {
          reply(404, { error: 'not_found', message: 'unknown admin command' });
        }
      } catch (err) {
        if (err instanceof AppError) reply(err.status, { error: err.code, message: err.message });
        else reply(500, { error: 'internal', message: (err as Error).message });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  chmodSync(socketPath, 0o600);
  return { path: socketPath, close: () => new Promise((r) => server.close(() => r())) };
}
