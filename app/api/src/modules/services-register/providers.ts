// The built-in providers of the register: the server's hosting, each backup target, e-mail
// through the SMTP relay, WhatsApp (Meta Cloud API directly or through 360dialog) and the
// practitioners' calendar feeds. Each is derived from the configuration as it is now
// (docs/external-services.md says how).
import type { Tx } from '../../db/connection.ts';
import type { Services } from '../../http/services.ts';
import { listTargetRows } from '../backup/targets-config.repository.ts';
import { backupRuntime } from '../backup/backup-runtime.service.ts';
import { envTargets, providerOf, readTargetRows } from '../backup/targets-config.service.ts';
import { channelRow } from '../messaging/messaging.repository.ts';
import type { ExternalServiceEntry, ExternalServiceProvider, ThirdCountry } from './registry.ts';

/** EU and EEA: no third-country transfer. */
const EEA = new Set('AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK IS LI NO'.split(' '));
/** Countries with an adequacy decision of the European Commission (Art. 45 GDPR). */
const ADEQUATE = new Set('AD AR CA CH FO GB GG IL IM JE JP KR NZ UY'.split(' '));

/** Third-country state and safeguards of processing in one country (ISO code). */
export function transferOf(country: string, base: string[]): { thirdCountry: ThirdCountry; safeguardCodes: string[] } {
  const c = country.trim().toUpperCase();
  if (EEA.has(c)) return { thirdCountry: 'none', safeguardCodes: base };
  if (ADEQUATE.has(c)) return { thirdCountry: 'yes', safeguardCodes: [...base, 'adequacy_decision'] };
  return { thirdCountry: 'yes', safeguardCodes: [...base, 'scc_2021_914'] };
}

const setting = (name: string, def: string) => process.env[name]?.trim() || def;
const country = (name: string, def: string) => {
  const v = setting(name, def).toUpperCase();
  return /^[A-Z]{2}$/.test(v) ? v : def;
};

/** The server itself: PRAXISKERN_HOSTING_PROVIDER (default Hetzner, as in the seeds' § 5) and PRAXISKERN_HOSTING_LOCATION. */
export const hostingService: ExternalServiceProvider = {
  key: 'hosting',
  async describe() {
    const provider = setting('PRAXISKERN_HOSTING_PROVIDER', 'Hetzner Online GmbH, Industriestr. 25, 91710 Gunzenhausen');
    const own = provider.toLowerCase() === 'own';
    const location = country('PRAXISKERN_HOSTING_LOCATION', 'DE');
    return [{
      key: 'hosting:server', scope: 'installation', name: own ? 'Server in the practice' : provider.split(',')[0],
      purposeCode: 'hosting', dataCategoryCodes: ['all_data'], recipient: own ? 'own_premises' : provider, location,
      ...transferOf(location, own ? ['own_premises'] : ['dpa_art28']),
      enabled: true, since: null, details: { encryption: 'per_patient_aes256gcm' },
    }];
  },
};

/** One entry per backup target (configuration and admin UI); the snapshots are encrypted with age. */
export const backupTargetsService: ExternalServiceProvider = {
  key: 'backup',
  async describe({ services, db, organizationId }) {
    const rt = backupRuntime(services);
    // In installation scope (a change being made) the caller's transaction sees the change.
    const rows = organizationId === null ? await listTargetRows(db as Tx) : await readTargetRows(services);
    const env = envTargets(rt);
    const envLocation = country('PRAXISKERN_BACKUP_LOCATION', 'DE');
    const list = [
      ...env.map((t) => ({ name: t.name, type: t.type, host: t.type === 'sftp' ? t.host : null, path: t.type === 'local' ? t.path : null, provider: null as string | null, location: envLocation, source: 'configuration' })),
      ...rows.filter((r) => !env.some((t) => t.name === r.name)).map((r) => ({ name: r.name, type: r.type, host: r.host, path: r.path, provider: r.provider, location: r.location, source: 'ui' })),
    ];
    return list.map((t): ExternalServiceEntry => {
      const local = t.type === 'local';
      return {
        key: `backup:${t.name}`, scope: 'installation',
        name: local ? `${t.name} (${t.path})` : `${t.name} (${t.host})`,
        purposeCode: 'backup', dataCategoryCodes: ['all_data_encrypted'],
        recipient: local ? (t.provider || 'own_storage') : providerOf(t), location: t.location,
        ...transferOf(t.location, local && !t.provider ? ['age_encryption'] : ['age_encryption', 'dpa_art28']),
        enabled: true, since: null,
        details: { type: t.type, source: t.source },
      };
    });
  },
};

async function channels(services: Services, db: Parameters<ExternalServiceProvider['describe']>[0]['db'], organizationId: string | null) {
  return organizationId ? channelRow(db as never, organizationId) : undefined;
}

/** E-mail to patients through the SMTP relay of PRAXISKERN_SMTP_HOST, switched on per organization. */
export const emailService: ExternalServiceProvider = {
  key: 'messaging-email',
  async describe({ services, db, organizationId }) {
    const row = await channels(services, db, organizationId);
    if (!row) return [];
    const smtp = services.config.messaging.smtp;
    const location = country('PRAXISKERN_SMTP_LOCATION', 'DE');
    const relay = setting('PRAXISKERN_SMTP_PROVIDER', smtp.host ?? '');
    return [{
      key: 'messaging:email', name: 'E-mail (SMTP)', purposeCode: 'patient_messages', dataCategoryCodes: ['email_address', 'first_name', 'message_content'],
      recipient: relay || 'not_configured', location, ...transferOf(location, ['dpa_art28', 'tls']),
      enabled: Boolean(smtp.host) && row.email_enabled, since: null,
      details: { relay: smtp.host ? `${smtp.host}:${smtp.port}` : '' },
    }];
  },
};

const META = 'Meta Platforms Ireland Ltd., 4 Grand Canal Square, Dublin 2, Ireland';
const D360 = '360dialog GmbH, Torstraße 61, 10119 Berlin, Germany';

/** WhatsApp: the Cloud API of Meta, directly or through the business solution provider 360dialog. */
export const whatsappService: ExternalServiceProvider = {
  key: 'messaging-whatsapp',
  async describe({ services, db, organizationId }) {
    const row = await channels(services, db, organizationId);
    if (!row) return [];
    const on = row.whatsapp_enabled;
    const data = ['phone_number', 'first_name', 'message_content'];
    const meta: ExternalServiceEntry = {
      key: 'messaging:whatsapp-meta', name: 'WhatsApp Cloud API (Meta)', purposeCode: 'patient_messages', dataCategoryCodes: data,
      recipient: META, location: 'IE/US', thirdCountry: 'yes', safeguardCodes: ['scc_2021_914', 'tls'], enabled: on, since: null,
      details: { provider: row.whatsapp_provider },
    };
    if (row.whatsapp_provider !== '360dialog') return [meta];
    return [
      {
        key: 'messaging:whatsapp-360dialog', name: 'WhatsApp Business Solution Provider (360dialog)', purposeCode: 'patient_messages', dataCategoryCodes: data,
        recipient: D360, location: 'DE', thirdCountry: 'indirect', safeguardCodes: ['dpa_art28', 'scc_meta_components', 'tls'], enabled: on, since: null,
      },
      { ...meta, details: { provider: '360dialog', via: '360dialog' } },
    ];
  },
};

/** Practitioners' iCalendar feeds: busy times only ("Termin"), fetched by whoever holds the secret link. */
export const calendarFeedService: ExternalServiceProvider = {
  key: 'appointments-ical',
  async describe({ db, organizationId }) {
    if (!organizationId) return [];
    const [{ feeds }] = await (db as Tx)('appointment_resources')
      .where({ organization_id: organizationId, active: true }).whereNotNull('feed_token_hash').count({ feeds: '*' });
    const n = Number(feeds);
    return [{
      key: 'appointments:ical', name: 'Calendar feeds (iCalendar)', purposeCode: 'calendar_feed', dataCategoryCodes: ['busy_times'],
      recipient: 'practitioners_calendar_apps', location: 'practitioner_choice', thirdCountry: 'indirect',
      safeguardCodes: ['no_patient_data', 'secret_link'], enabled: n > 0, since: null, details: { feeds: String(n) },
    }];
  },
};

export const BUILT_IN_PROVIDERS = [hostingService, backupTargetsService, emailService, whatsappService, calendarFeedService];
