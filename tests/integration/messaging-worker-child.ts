// Child process of the outbox kill -9 test (not a test file): an outbox worker like the bundle's,
// against the test database and data directory, unsealed with the test passphrase. PK_CHILD (JSON):
// { env, passphrase }.
import { loadConfig } from '../../app/api/src/core/config.ts';
import { createDb } from '../../app/api/src/db/connection.ts';
import { buildServices } from '../../app/api/src/server.ts';
import { OutboxWorker } from '../../app/api/src/modules/messaging/outbox.worker.ts';
import { TEST_KDF } from '../helpers/app.ts';

const cfg = JSON.parse(process.env.PK_CHILD!) as { env: Record<string, string>; passphrase: string };
const config = loadConfig(cfg.env);
const db = createDb(config.databaseUrl!, 4);
const services = buildServices(config, db, TEST_KDF);
await services.seal.unseal(db, cfg.passphrase);
const worker = new OutboxWorker(services).start();
process.stdout.write('READY\n');
process.once('SIGTERM', async () => {
  await worker.stop();
  await db.destroy();
  process.exit(0);
});
