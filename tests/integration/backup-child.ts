// Child process of the kill -9 test (not a test file): runs one backup and reports every progress
// event on stdout ("P <phase>"), then "DONE ok|failed". Configuration comes in PK_CHILD (JSON).
import { loadConfig } from '../../app/api/src/core/config.ts';
import { createDb } from '../../app/api/src/db/connection.ts';
import { buildServices } from '../../app/api/src/server.ts';
import { registerBackup } from '../../app/api/src/modules/backup/backup-runtime.service.ts';
import { runBackup } from '../../app/api/src/modules/backup/snapshot.service.ts';
import { TEST_KDF } from '../helpers/app.ts';

const cfg = JSON.parse(process.env.PK_CHILD!) as { appUrl: string; ownerUrl: string; dataDir: string; env: Record<string, string> };
const config = loadConfig({ PRAXISKERN_DATA_DIR: cfg.dataDir, DATABASE_URL: cfg.appUrl, DATABASE_OWNER_URL: cfg.ownerUrl, LOG_LEVEL: 'silent' });
const db = createDb(cfg.appUrl, 4);
const services = buildServices(config, db, TEST_KDF);
const rt = registerBackup(services, { ownerUrl: cfg.ownerUrl, env: cfg.env, onProgress: (p) => process.stdout.write(`P ${p.phase}\n`) });
const result = await runBackup(rt, { trigger: 'cli' });
process.stdout.write(`DONE ${result.ok ? 'ok' : `failed ${result.error}`}\n`);
await db.destroy();
process.exit(0);
