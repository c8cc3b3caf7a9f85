// The Anthropic entry of the live register of external services (issue 13 item 7, owner: the
// services-register module). Written in the register's contract shape; the coordinator registers it
// at start-up with registerExternalService(anthropicExternalService).
import type { Tx } from '../../db/connection.ts';
import type { Db } from '../../db/connection.ts';
import { settingsRow } from './ai.service.ts';

export interface AnthropicRegisterEntry {
  key: string;
  name: string;
  purposeCode: string;
  dataCategoryCodes: string[];
  recipient: string;
  location: string;
  thirdCountry: 'none' | 'indirect' | 'yes';
  safeguardCodes: string[];
  enabled: boolean;
  since: string | null;
  details?: Record<string, string>;
}

export const anthropicExternalService = {
  key: 'anthropic',
  async describe(ctx: { organizationId: string; db: Db | Tx }): Promise<AnthropicRegisterEntry[]> {
    const s = await settingsRow(ctx.db as Tx, ctx.organizationId);
    const host = (() => {
      try {
        return new URL(s.base_url).host;
      } catch {
        return s.base_url;
      }
    })();
    return [{
      key: 'anthropic',
      name: 'Anthropic Claude',
      purposeCode: 'ai_file_preparation',
      // What leaves: pseudonymised anamnesis/questionnaire answers, pre-qualification, diagnoses,
      // treatment history, the patient's message texts, age in years, sex (docs/ai.md); no direct identifier.
      dataCategoryCodes: ['health_data_pseudonymised', 'message_content_pseudonymised', 'age', 'sex'],
      recipient: host === 'api.anthropic.com' ? 'Anthropic PBC (San Francisco, USA)' : `Anthropic PBC via ${host}`,
      location: host === 'api.anthropic.com' ? 'US' : host,
      thirdCountry: 'yes',
      safeguardCodes: ['pseudonymisation', 'leak_check', 'consent_per_patient', 'zero_data_retention_agreement', 'scc', 'dpa'],
      enabled: s.enabled,
      since: s.enabled_at ? new Date(s.enabled_at).toISOString() : null,
      details: { model: s.model, baseUrl: s.base_url, dailyTokenBudget: String(s.daily_token_budget) },
    }];
  },
};
