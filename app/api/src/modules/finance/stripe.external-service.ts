// The Stripe entry of the live register of external services (contract: docs of the
// services-register module, ExternalServiceProvider). The registry is not part of this branch:
// the coordinator registers this provider at merge (registerExternalService(stripeExternalService)).
import { withScope, type Db } from '../../db/connection.ts';
import { SYSTEM_USER_ID } from '../retention/retention.scheduler.ts';
import { settingsOf } from './finance.repository.ts';

export interface StripeRegisterEntry {
  key: string; name: string; purposeCode: string; dataCategoryCodes: string[]; recipient: string; location: string;
  thirdCountry: 'none' | 'indirect' | 'yes'; safeguardCodes: string[]; enabled: boolean; since: string | null; details?: Record<string, string>;
}

export const stripeExternalService = {
  key: 'stripe',
  async describe(ctx: { organizationId: string; db: Db }): Promise<StripeRegisterEntry[]> {
    const s = await withScope(ctx.db, { organizationId: ctx.organizationId, userId: SYSTEM_USER_ID, readOnly: true }, (trx) => settingsOf(trx, ctx.organizationId));
    return [{
      key: 'stripe',
      name: 'Stripe',
      // Anlage 2 of the seed's data-processing agreement: Zahlungsabwicklung; Name, E-Mail, Zahlungsdaten.
      purposeCode: 'payment_processing',
      dataCategoryCodes: ['payment_amount', 'payment_reference', ...(s.stripe_share_contact ? ['name', 'email'] : []), 'payment_data'],
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
