// The AI settings of an organization (table ai_settings, row-level security: call inside a
// transaction in the organization's scope). Kept apart from ai.service.ts so the register's
// provider (ai.register.ts) can read them without importing the service, which itself syncs the
// register (services-register/register.service.ts) when the switch changes.
import type { Tx } from '../../db/connection.ts';
import { DEFAULT_BASE_URL, DEFAULT_MODEL } from './ai.schema.ts';

export interface SettingsRow {
  organization_id: string;
  enabled: boolean;
  model: string;
  base_url: string;
  api_key_file: string | null;
  timeout_ms: number;
  max_retries: number;
  daily_token_budget: number;
  enabled_at: Date | null;
  updated_by: string | null;
  updated_at: Date | null;
}

export const defaults = (organizationId: string): SettingsRow => ({
  organization_id: organizationId, enabled: false, model: DEFAULT_MODEL, base_url: DEFAULT_BASE_URL, api_key_file: null, timeout_ms: 60_000,
  max_retries: 2, daily_token_budget: 200_000, enabled_at: null, updated_by: null, updated_at: null,
});

/** The stored settings, or the defaults (switched off) when the organization has none yet. */
export async function settingsRow(trx: Tx, organizationId: string): Promise<SettingsRow> {
  return ((await trx('ai_settings').where({ organization_id: organizationId }).first()) as SettingsRow | undefined) ?? defaults(organizationId);
}
