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
import * as m0240 from './migrations/20261201_0240_update_history.ts';
import * as m0250 from './migrations/20261201_0250_appointments.ts';
import * as m0260 from './migrations/20261201_0260_messaging.ts';
import * as m0270 from './migrations/20261201_0270_appointment_reminders.ts';
import * as m0271 from './migrations/20261201_0271_aftercare.ts';
import * as m0280 from './migrations/20261201_0280_inbox.ts';
import * as m0290 from './migrations/20261201_0290_inbound_media.ts';
import * as m0370 from './migrations/20261201_0370_finance.ts';
import * as m0330 from './migrations/20261201_0330_enrollment_kind.ts';
import * as m0350 from './migrations/20261201_0350_external_services.ts';
import * as m0320 from './migrations/20261201_0320_questionnaire_editor.ts';
import * as m0380 from './migrations/20261201_0380_travel.ts';
import * as m0340 from './migrations/20261201_0340_ai.ts';
import * as m0360 from './migrations/20261201_0360_reports.ts';
import * as m0300 from './migrations/20261201_0300_patient_master_data.ts';
import * as m0310 from './migrations/20261201_0310_record_notes.ts';
import * as m0311 from './migrations/20261201_0311_icd_catalogue.ts';
import * as m0390 from './migrations/20261201_0390_request_time_zone.ts';

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
  '20261201_0240_update_history': m0240,
  '20261201_0250_appointments': m0250,
  '20261201_0260_messaging': m0260,
  '20261201_0270_appointment_reminders': m0270,
  '20261201_0271_aftercare': m0271,
  '20261201_0280_inbox': m0280,
  '20261201_0290_inbound_media': m0290,
  '20261201_0370_finance': m0370,
  '20261201_0330_enrollment_kind': m0330,
  '20261201_0350_external_services': m0350,
  '20261201_0320_questionnaire_editor': m0320,
  '20261201_0380_travel': m0380,
  '20261201_0340_ai': m0340,
  '20261201_0360_reports': m0360,
  '20261201_0300_patient_master_data': m0300,
  '20261201_0310_record_notes': m0310,
  '20261201_0311_icd_catalogue': m0311,
  '20261201_0390_request_time_zone': m0390,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name],
};

/** Applies pending migrations as the owner role; returns the names applied. */
export async function migrateLatest(owner: Knex): Promise<string[]> {
  const [, applied] = await owner.migrate.latest({ migrationSource });
  return applied as string[];
}

export async function schemaVersion(db: Knex): Promise<string> {
  const names = Object.keys(MIGRATIONS).sort();
  return names[names.length - 1];
}

export interface MigrationState {
  /** The code's migrations, in the order they apply. */
  known: string[];
  /** Applied to the database, in the order they were applied. */
  applied: string[];
  /** Known but not applied yet. */
  pending: string[];
}

/** What this code knows and what the database has applied (knex_migrations; readable by the application role). */
export async function migrationState(db: Knex): Promise<MigrationState> {
  const known = Object.keys(MIGRATIONS).sort();
  const { rows } = await db.raw(`select to_regclass('public.knex_migrations') is not null as present`);
  const applied: string[] = rows[0].present ? (await db('knex_migrations').orderBy('id').select('name')).map((r: { name: string }) => r.name) : [];
  const done = new Set(applied);
  return { known, applied, pending: known.filter((n) => !done.has(n)) };
}

/** The short form `praxiskern status` reports. */
export function migrationSummary(s: MigrationState): { applied: number; last: string | null; pending: string[] } {
  return { applied: s.applied.length, last: s.applied.at(-1) ?? null, pending: s.pending };
}
