// knex migrations, listed explicitly so they load as TypeScript modules under Node's type stripping.
import type { Knex } from 'knex';
import * as m0001 from './migrations/20261123_0001_foundation.ts';
import * as m0002 from './migrations/20261123_0002_auth.ts';
import * as m0003 from './migrations/20261123_0003_patients.ts';
import * as m0010 from './migrations/20261123_0010_backup.ts';
import * as m0100 from './migrations/20261201_0100_installation_scope.ts';
import * as m0110 from './migrations/20261201_0110_enrollment.ts';
import * as m0120 from './migrations/20261201_0120_audit_chain_heads.ts';
import * as m0150 from './migrations/20261201_0150_document_removal.ts';
import * as m0130 from './migrations/20261201_0130_backup_requests.ts';
import * as m0200 from './migrations/20261201_0200_audit_sequencer.ts';
import * as m0210 from './migrations/20261201_0210_request_scope.ts';
import * as m0230 from './migrations/20261201_0230_operator_user_keys.ts';
import * as m0260 from './migrations/20261201_0260_messaging.ts';

export interface MigrationModule {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

export const MIGRATIONS: Record<string, MigrationModule> = {
  '20261123_0001_foundation': m0001,
  '20261123_0002_auth': m0002,
  '20261123_0003_patients': m0003,
  '20261123_0010_backup': m0010,
  '20261201_0100_installation_scope': m0100,
  '20261201_0110_enrollment': m0110,
  '20261201_0120_audit_chain_heads': m0120,
  '20261201_0150_document_removal': m0150,
  '20261201_0130_backup_requests': m0130,
  '20261201_0200_audit_sequencer': m0200,
  '20261201_0210_request_scope': m0210,
  '20261201_0230_operator_user_keys': m0230,
  '20261201_0260_messaging': m0260,
};

const source: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name],
};

/** Applies pending migrations as the owner role; returns the names applied. */
export async function migrateLatest(owner: Knex): Promise<string[]> {
  const [, applied] = await owner.migrate.latest({ migrationSource: source });
  return applied as string[];
}

export async function schemaVersion(db: Knex): Promise<string> {
  const names = Object.keys(MIGRATIONS).sort();
  return names[names.length - 1];
}
