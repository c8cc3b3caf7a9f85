// The flight-status look-up as an entry of the external-services register (contract of the
// "register" helper: ExternalServiceProvider / ExternalServiceEntry). The registry
// (modules/services-register/registry.ts) does not exist on this branch, so the provider is a
// plain exported object of that shape; the coordinator registers it at start-up in one line:
//   registerExternalService(aviationstackExternalService);
// What it sends: the flight number and the flight date (never patient data) and the access key.
import { withScope, type Db } from '../../db/connection.ts';

export interface ExternalServiceEntry {
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
export interface ExternalServiceProvider {
  key: string;
  describe(ctx: { organizationId: string; db: Db }): Promise<ExternalServiceEntry[]>;
}

export const aviationstackExternalService: ExternalServiceProvider = {
  key: 'aviationstack',
  async describe({ organizationId, db }) {
    const row = await withScope(db, { organizationId, readOnly: true }, (trx) =>
      trx('travel_settings').where({ organization_id: organizationId }).first('flight_status_enabled', 'base_url', 'enabled_at'));
    let host = '';
    try {
      host = row?.base_url ? new URL(row.base_url).host : '';
    } catch { /* stored URLs are validated; nothing to show otherwise */ }
    return [{
      key: 'aviationstack',
      name: 'AviationStack (apilayer Data Products GmbH)',
      purposeCode: 'flight_status',
      dataCategoryCodes: ['flight_number', 'flight_date'],
      recipient: 'apilayer Data Products GmbH',
      location: 'AT',
      thirdCountry: 'none',
      safeguardCodes: ['dpa_art28'],
      enabled: row?.flight_status_enabled ?? false,
      since: row?.flight_status_enabled && row.enabled_at ? (row.enabled_at as Date).toISOString() : null,
      details: { ...(host ? { host } : {}), sends: 'flight_iata, flight_date, access_key' },
    }];
  },
};
