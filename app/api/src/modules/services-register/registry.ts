// The registry of external services (the register's "Anlage 2", docs/external-services.md). Each
// module that sends data to someone outside the server registers one provider; the provider
// describes, from the actual configuration, which services of that kind are in use for an
// organization. Codes (purpose, data categories, safeguards) are translated by the UI.
import type { Db, Tx } from '../../db/connection.ts';
import type { Services } from '../../http/services.ts';

export type ThirdCountry = 'none' | 'indirect' | 'yes';

export interface ExternalServiceEntry {
  /** Stable key, "<area>:<name>" (area: hosting, backup, messaging, appointments, ai, finance, …). */
  key: string;
  /** The service as shown: "Hetzner Online GmbH", "SFTP storagebox (u1.your-storagebox.de)". */
  name: string;
  purposeCode: string;
  dataCategoryCodes: string[];
  /** Who receives the data: company and seat. */
  recipient: string;
  /** Where the data is processed: ISO country codes or words ("DE", "IE/US"). */
  location: string;
  thirdCountry: ThirdCountry;
  safeguardCodes: string[];
  enabled: boolean;
  /** Since when the current state holds; the register fills it from its transition table when null. */
  since: string | null;
  details?: Record<string, string>;
  /** Installation-wide services (hosting, backup targets) are the same for every organization. */
  scope?: 'installation' | 'organization';
}

export interface ExternalServiceContext {
  /** null: only installation-wide entries are asked for. */
  organizationId: string | null;
  /** A transaction in the organization's scope (RLS); installation tables are read through services. */
  db: Tx | Db;
  services: Services;
}

export interface ExternalServiceProvider {
  key: string;
  describe(ctx: ExternalServiceContext): Promise<ExternalServiceEntry[]>;
}

const providers = new Map<string, ExternalServiceProvider>();

/**
 * Registers a provider (idempotent by key: a later registration replaces an earlier one). A module
 * may hand over a plain exported object of this shape, e.g. `registerExternalService(anthropicExternalService)`.
 */
export function registerExternalService(provider: ExternalServiceProvider): void {
  if (!provider || typeof provider.key !== 'string' || typeof provider.describe !== 'function') {
    throw new TypeError('an external service provider needs a key and a describe(ctx) function');
  }
  providers.set(provider.key, provider);
}

export const externalServiceProviders = (): ExternalServiceProvider[] => [...providers.values()];

/** The area of a key ("messaging:whatsapp" → "messaging"), used in the audit action names. */
export const areaOf = (key: string) => key.split(/[:.]/)[0];
