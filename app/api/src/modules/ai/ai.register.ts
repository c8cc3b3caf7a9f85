// The Anthropic entry of the live register of external services (services-register/registry.ts),
// registered by the register service; called inside a transaction in the organization's scope
// (ai_settings has row-level security).
import type { Tx } from '../../db/connection.ts';
import type { ExternalServiceEntry, ExternalServiceProvider } from '../services-register/registry.ts';
import { settingsRow } from './ai.repository.ts';

export const anthropicExternalService: ExternalServiceProvider = {
  key: 'anthropic',
  async describe(ctx): Promise<ExternalServiceEntry[]> {
    if (!ctx.organizationId) return [];
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
      purposeCode: 'ai_assistance',
      // What leaves: pseudonymised anamnesis/questionnaire answers, pre-qualification, diagnoses,
      // treatment history, the patient's message texts, age in years, sex (docs/ai.md); no direct identifier.
      dataCategoryCodes: ['pseudonymised_record', 'message_content_pseudonymised', 'age_in_years', 'sex'],
      recipient: host === 'api.anthropic.com' ? 'Anthropic PBC (San Francisco, USA)' : `Anthropic PBC via ${host}`,
      location: host === 'api.anthropic.com' ? 'US' : host,
      thirdCountry: 'yes',
      safeguardCodes: ['pseudonymisation', 'leak_check', 'consent_per_patient', 'zero_data_retention', 'scc_2021_914', 'dpa_art28'],
      enabled: s.enabled,
      since: s.enabled_at ? new Date(s.enabled_at).toISOString() : null,
      details: { model: s.model, baseUrl: s.base_url, dailyTokenBudget: String(s.daily_token_budget) },
    }];
  },
};
