// The live register of external services: what the providers describe from the configuration,
// with "since when" from the transition table (external_service_events). Changes are detected at
// start-up, on every settings change that can switch a service (messaging channels, calendar feeds,
// backup targets, Stripe, the flight-status look-up, the AI helper: in the same transaction as the
// change) and whenever the register is read; each transition is audited once, here, as
// "<area>.external_service.enabled" / ".disabled" (installation services in the installation chain).
import { authorize } from '../../core/authorize.ts';
import { rootLogger } from '../../core/logger.ts';
import { withScope, type Tx } from '../../db/connection.ts';
import type { Services } from '../../http/services.ts';
import { audit } from '../audit/audit.service.ts';
import { BUILT_IN_PROVIDERS } from './providers.ts';
import { stripeExternalService } from '../finance/stripe.external-service.ts';
import { aviationstackExternalService } from '../travel/aviationstack.external-service.ts';
import { anthropicExternalService } from '../ai/ai.register.ts';
import { areaOf, externalServiceProviders, registerExternalService, type ExternalServiceEntry } from './registry.ts';

for (const p of [...BUILT_IN_PROVIDERS, stripeExternalService, aviationstackExternalService, anthropicExternalService]) registerExternalService(p);

interface EventRow { service_key: string; enabled: boolean; at: Date; entry: ExternalServiceEntry; organization_id: string | null }

const scopeOf = (e: ExternalServiceEntry) => e.scope ?? 'organization';

async function describeAll(services: Services, trx: Tx, organizationId: string | null): Promise<ExternalServiceEntry[]> {
  const all: ExternalServiceEntry[] = [];
  for (const p of externalServiceProviders()) {
    const entries = await p.describe({ organizationId, db: trx, services });
    for (const e of entries) {
      if (organizationId === null && scopeOf(e) !== 'installation') continue;
      all.push({ ...e, dataCategoryCodes: [...e.dataCategoryCodes], safeguardCodes: [...e.safeguardCodes] });
    }
  }
  return all;
}

async function latest(trx: Tx, organizationId: string | null): Promise<Map<string, EventRow>> {
  const rows: EventRow[] = await trx('external_service_events')
    .distinctOn('service_key')
    .where((q) => (organizationId === null ? q.whereNull('organization_id') : q.where({ organization_id: organizationId })))
    .orderBy([{ column: 'service_key' }, { column: 'at', order: 'desc' }, { column: 'id', order: 'desc' }])
    .select('service_key', 'enabled', 'at', 'entry', 'organization_id');
  return new Map(rows.map((r) => [r.service_key, r]));
}

const stored = (e: ExternalServiceEntry) => {
  const { since: _since, ...rest } = e;
  return rest;
};

/**
 * One detector at a time per organization (start-up sync, a settings change and a read may meet).
 * Taken before the services are described: a detector that described the old state and then waited
 * for the lock would record (and audit) a switch back that never happened.
 */
async function lock(trx: Tx, organizationId: string | null): Promise<void> {
  await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`external_services:${organizationId ?? 'installation'}`]);
}

/** Records the transitions between the stored state and `entries` (all of one scope) and audits them; the caller holds lock(). */
async function record(trx: Tx, organizationId: string | null, entries: ExternalServiceEntry[]): Promise<number> {
  const before = await latest(trx, organizationId);
  let changes = 0;
  const write = async (entry: ExternalServiceEntry, enabled: boolean, first: boolean) => {
    await trx('external_service_events').insert({ organization_id: organizationId, service_key: entry.key, enabled, entry: JSON.stringify(stored({ ...entry, enabled })) });
    if (first && !enabled) return; // first seen, switched off: nothing was disclosed, nothing to audit
    changes++;
    await audit(trx, {
      action: `${areaOf(entry.key)}.external_service.${enabled ? 'enabled' : 'disabled'}`, objectType: 'external_service', objectId: entry.key,
      organizationId,
      // What the register shows at the switch (never patient data): the recipient, where, and what goes
      // there, with the entry's own settings (e.g. Stripe's shareContact, the AI model and host).
      details: { name: entry.name, recipient: entry.recipient, location: entry.location, thirdCountry: entry.thirdCountry, dataCategoryCodes: entry.dataCategoryCodes, details: entry.details ?? {} },
    });
  };
  const seen = new Set<string>();
  for (const e of entries) {
    seen.add(e.key);
    const prev = before.get(e.key);
    if (!prev || prev.enabled !== e.enabled) await write(e, e.enabled, !prev);
  }
  // A service that is no longer configured at all (a removed backup target, another WhatsApp provider).
  for (const [key, prev] of before) if (!seen.has(key) && prev.enabled) await write({ ...prev.entry, key }, false, false);
  return changes;
}

/** Installation-wide services (hosting, backup targets); `trx` must be in installation scope. */
export async function syncInstallationRegister(services: Services, trx: Tx): Promise<number> {
  await lock(trx, null);
  return record(trx, null, await describeAll(services, trx, null));
}

/** The organization's own services; `trx` in the organization's scope. */
export async function syncOrganizationRegister(services: Services, trx: Tx, organizationId: string): Promise<number> {
  await lock(trx, organizationId);
  const entries = (await describeAll(services, trx, organizationId)).filter((e) => scopeOf(e) === 'organization');
  return record(trx, organizationId, entries);
}

/** At start-up: the installation's services and every organization's. */
export async function syncAllRegisters(services: Services): Promise<void> {
  const db = services.db;
  await withScope(db, { organizationId: null, installation: true }, (trx) => syncInstallationRegister(services, trx));
  const orgs: { id: string }[] = await withScope(db, { organizationId: null, platform: true, readOnly: true }, (trx) => trx('organizations').select('id'));
  for (const { id } of orgs) await withScope(db, { organizationId: id }, (trx) => syncOrganizationRegister(services, trx, id));
}

export function syncAllRegistersInBackground(services: Services): Promise<void> {
  return syncAllRegisters(services).catch((err) => rootLogger.error({ err: (err as Error).message }, 'register of external services: start-up sync failed'));
}

// ---- the register as shown ----

export interface RegisterEntryView extends ExternalServiceEntry {
  scope: 'installation' | 'organization';
}

function withSince(e: ExternalServiceEntry, prev: EventRow | undefined): RegisterEntryView {
  const since = e.since ?? (prev && prev.enabled === e.enabled ? prev.at.toISOString() : null);
  return { ...e, scope: scopeOf(e), since, details: e.details ?? {} };
}

/** GET /services-register: the organization's register (installation services included). */
export async function readRegister(services: Services) {
  const actor = authorize('register.read');
  return withScope(services.db, { organizationId: actor.organizationId, userId: actor.userId }, async (trx) => {
    await lock(trx, actor.organizationId);
    const entries = await describeAll(services, trx, actor.organizationId);
    await record(trx, actor.organizationId, entries.filter((e) => scopeOf(e) === 'organization'));
    const org = await latest(trx, actor.organizationId);
    const inst = await latest(trx, null);
    const current = entries.map((e) => withSince(e, (scopeOf(e) === 'installation' ? inst : org).get(e.key)));
    const keys = new Set(current.map((e) => e.key));
    const gone = [...org.values(), ...inst.values()]
      .filter((r) => !keys.has(r.service_key) && !r.enabled)
      .map((r) => withSince({ ...r.entry, key: r.service_key, enabled: false, since: null, scope: r.organization_id === null ? 'installation' : 'organization' }, r));
    const history: { key: string; name: string; enabled: boolean; at: string; scope: 'installation' | 'organization' }[] = (
      await trx('external_service_events')
        .where((q) => q.where({ organization_id: actor.organizationId }).orWhereNull('organization_id'))
        .orderBy([{ column: 'at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(200)
        .select('service_key', 'enabled', 'at', 'entry', 'organization_id')
    ).map((r: EventRow) => ({ key: r.service_key, name: String(r.entry.name ?? r.service_key), enabled: r.enabled, at: r.at.toISOString(), scope: r.organization_id === null ? 'installation' : 'organization' }));
    const { name } = (await trx('organizations').where({ id: actor.organizationId }).first('name')) ?? { name: '' };
    const order = (e: RegisterEntryView) => (e.scope === 'installation' ? 0 : 1);
    return {
      organization: name as string,
      generatedAt: new Date().toISOString(),
      entries: [...current, ...gone].sort((a, b) => order(a) - order(b) || a.key.localeCompare(b.key)),
      history,
    };
  });
}
