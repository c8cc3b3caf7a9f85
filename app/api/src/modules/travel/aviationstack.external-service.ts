// The flight-status look-up as an entry of the live register of external services
// (services-register/registry.ts), registered by the register service; called inside a
// transaction in the organization's scope.
// What it sends: the flight number and the flight date (never patient data) and the access key.
import type { Tx } from '../../db/connection.ts';
import type { ExternalServiceProvider } from '../services-register/registry.ts';

export const aviationstackExternalService: ExternalServiceProvider = {
  key: 'aviationstack',
  async describe({ organizationId, db }) {
    if (!organizationId) return [];
    const row = await (db as Tx)('travel_settings').where({ organization_id: organizationId }).first('flight_status_enabled', 'base_url', 'enabled_at');
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
