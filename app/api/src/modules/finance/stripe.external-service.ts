// The Stripe entry of the live register of external services (services-register/registry.ts),
// registered by the register service. Called inside a transaction in the organization's scope.
import type { Tx } from '../../db/connection.ts';
import type { ExternalServiceEntry, ExternalServiceProvider } from '../services-register/registry.ts';
import { settingsOf } from './finance.repository.ts';

export const stripeExternalService: ExternalServiceProvider = {
  key: 'stripe',
  async describe(ctx): Promise<ExternalServiceEntry[]> {
    if (!ctx.organizationId) return [];
    const s = await settingsOf(ctx.db as Tx, ctx.organizationId);
    return [{
      key: 'stripe',
      name: 'Stripe',
      // Anlage 2 of the seed's data-processing agreement: Zahlungsabwicklung; Name, E-Mail, Zahlungsdaten.
      purposeCode: 'payments',
      dataCategoryCodes: ['payment_amount', 'payment_reference', ...(s.stripe_share_contact ? ['name', 'email_address'] : []), 'payment_data'],
      recipient: 'Stripe Payments Europe Ltd., 1 Grand Canal Street Lower, Dublin 2, Irland',
      location: 'IE',
      thirdCountry: 'indirect',
      safeguardCodes: ['scc_2021_914'],
      enabled: s.stripe_enabled,
      since: s.stripe_since ? s.stripe_since.toISOString() : null,
      details: { shareContact: s.stripe_share_contact ? 'yes' : 'no', object: 'checkout_session' },
    }];
  },
};
