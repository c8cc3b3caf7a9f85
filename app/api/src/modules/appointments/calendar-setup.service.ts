// What the calendar is made of: the organization's time zone, appointment types, practitioners and
// rooms (types and resources are deactivated, never deleted: old appointments keep pointing at
// them), and the opt-in iCalendar feed of a practitioner (secret URL, stored as a hash, revocable).
import { createHash, randomBytes } from 'node:crypto';
import { withScope } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import { AppError, forbidden, notFound, validation } from '../../core/errors.ts';
import { permits } from '../../core/permissions.ts';
import type { Services } from '../../http/services.ts';
import { audit } from '../audit/audit.service.ts';
import { scope } from '../patients/patient.service.ts';
import * as repo from './appointment.repository.ts';
import type { z } from 'zod';
import type { resourceBody, resourcePatchBody, typeBody, typePatchBody } from './appointment.schema.ts';
import { canonicalTimeZone } from './time-zone.ts';
import { syncOrganizationRegister } from '../services-register/register.service.ts';

export const typeView = (t: repo.TypeRow) => ({ id: t.id, key: t.key, nameDe: t.name_de, nameEn: t.name_en, color: t.color, defaultMinutes: t.default_minutes, reminderOffsetsMinutes: [...t.reminder_offsets].sort((a, b) => b - a), active: t.active });
export const resourceView = (r: repo.ResourceRow) => ({ id: r.id, kind: r.kind, name: r.name, userId: r.user_id, active: r.active, feedEnabledAt: r.feed_enabled_at });

/** Time zone, types and resources: what every calendar view needs (no patient data). */
export async function calendarSettings(services: Services) {
  const actor = authorize('appointments.read');
  return withScope(services.db, scope(actor), async (trx) => ({
    timeZone: await repo.organizationTimeZone(trx, actor.organizationId),
    types: (await repo.listTypes(trx)).map(typeView),
    resources: (await repo.listResources(trx)).map(resourceView),
  }));
}

export async function setTimeZone(services: Services, timeZone: string) {
  const actor = authorize('appointments.configure');
  const zone = canonicalTimeZone(timeZone);
  if (!zone) throw validation('body.timeZone', 'is not a known IANA time zone (e.g. Europe/Berlin)', 'unknown_time_zone');
  return withScope(services.db, scope(actor), async (trx) => {
    const before = await repo.organizationTimeZone(trx, actor.organizationId);
    await repo.setOrganizationTimeZone(trx, actor.organizationId, zone);
    await audit(trx, { action: 'organization.time_zone', objectType: 'organization', objectId: actor.organizationId, details: { from: before, to: zone } });
    return { timeZone: zone };
  });
}

export async function createType(services: Services, input: z.infer<typeof typeBody>) {
  const actor = authorize('appointments.configure');
  return withScope(services.db, scope(actor), async (trx) => {
    const t = await repo.insertType(trx, { organization_id: actor.organizationId, name_de: input.nameDe, name_en: input.nameEn, color: input.color, default_minutes: input.defaultMinutes, ...(input.reminderOffsetsMinutes ? { reminder_offsets: input.reminderOffsetsMinutes } : {}) });
    await audit(trx, { action: 'appointment_type.create', objectType: 'appointment_type', objectId: t.id });
    return typeView(t);
  });
}

export async function updateType(services: Services, id: string, input: z.infer<typeof typePatchBody>) {
  const actor = authorize('appointments.configure');
  return withScope(services.db, scope(actor), async (trx) => {
    const patch: Partial<repo.TypeRow> = {};
    if (input.nameDe !== undefined) patch.name_de = input.nameDe;
    if (input.nameEn !== undefined) patch.name_en = input.nameEn;
    if (input.color !== undefined) patch.color = input.color;
    if (input.defaultMinutes !== undefined) patch.default_minutes = input.defaultMinutes;
    if (input.reminderOffsetsMinutes !== undefined) patch.reminder_offsets = input.reminderOffsetsMinutes;
    if (input.active !== undefined) patch.active = input.active;
    const t = Object.keys(patch).length ? await repo.updateType(trx, id, patch) : await repo.findType(trx, id);
    if (!t) throw notFound('Appointment type');
    await audit(trx, { action: 'appointment_type.update', objectType: 'appointment_type', objectId: id, details: { fields: Object.keys(input) } });
    return typeView(t);
  });
}

export async function createResource(services: Services, input: z.infer<typeof resourceBody>) {
  const actor = authorize('appointments.configure');
  if (input.kind === 'room' && input.userId) throw validation('body.userId', 'only a practitioner can be a user', 'invalid_value');
  if (!input.name && !input.userId) throw validation('body.name', 'a resource needs a name (or, for a practitioner, a user)', 'required');
  return withScope(services.db, scope(actor), async (trx) => {
    let name = input.name;
    if (input.userId) {
      const userName = await repo.findUserName(trx, input.userId);
      if (!userName) throw validation('body.userId', 'is not a user of this organization', 'not_found');
      name ??= userName;
    }
    try {
      await trx.raw('savepoint resource_insert');
      const r = await repo.insertResource(trx, { organization_id: actor.organizationId, kind: input.kind, name: name!, user_id: input.userId ?? null });
      await trx.raw('release savepoint resource_insert');
      await audit(trx, { action: 'appointment_resource.create', objectType: 'appointment_resource', objectId: r.id, details: { kind: r.kind } });
      return resourceView(r);
    } catch (err) {
      if ((err as { constraint?: string }).constraint !== 'appointment_resources_user') throw err;
      await trx.raw('rollback to savepoint resource_insert');
      throw new AppError(409, 'conflict', 'body.userId: this user already has a practitioner calendar', [{ field: 'body.userId', code: 'taken', message: 'already has a practitioner calendar' }]);
    }
  });
}

export async function updateResource(services: Services, id: string, input: z.infer<typeof resourcePatchBody>) {
  const actor = authorize('appointments.configure');
  return withScope(services.db, scope(actor), async (trx) => {
    const patch: Partial<repo.ResourceRow> = {};
    if (input.name !== undefined) patch.name = input.name;
    if (input.active !== undefined) patch.active = input.active;
    // A deactivated practitioner's feed stops too (the resolver checks active; the hash goes).
    if (input.active === false) Object.assign(patch, { feed_token_hash: null, feed_enabled_at: null });
    const r = Object.keys(patch).length ? await repo.updateResource(trx, id, patch) : await repo.findResource(trx, id);
    if (!r) throw notFound('Resource');
    await audit(trx, { action: 'appointment_resource.update', objectType: 'appointment_resource', objectId: id, details: { fields: Object.keys(input) } });
    return resourceView(r);
  });
}

export const feedTokenHash = (token: string) => createHash('sha256').update(token, 'utf8').digest();

/** The practitioner's own feed (appointments.feed), or any practitioner's (appointments.configure). */
async function feedResource(services: Services, id: string, action: 'enable' | 'revoke') {
  const actor = authorize('appointments.feed');
  return withScope(services.db, scope(actor), async (trx) => {
    const r = await repo.findResource(trx, id, true);
    if (!r) throw notFound('Resource');
    if (!permits(actor, 'appointments.configure') && r.user_id !== actor.userId) throw forbidden('Only the practitioner or an administrator may manage this calendar feed');
    if (r.kind !== 'practitioner' || !r.active) throw validation('params.resourceId', 'only an active practitioner has a calendar feed', 'invalid_value');
    if (action === 'revoke') {
      if (!r.feed_token_hash) throw notFound('Calendar feed');
      await repo.updateResource(trx, id, { feed_token_hash: null, feed_enabled_at: null });
      await audit(trx, { action: 'appointment_feed.revoke', objectType: 'appointment_resource', objectId: id });
      await syncOrganizationRegister(services, trx, actor.organizationId); // the register of external services
      return undefined;
    }
    const token = randomBytes(32).toString('base64url');
    const updated = (await repo.updateResource(trx, id, { feed_token_hash: feedTokenHash(token), feed_enabled_at: new Date() }))!;
    await audit(trx, { action: 'appointment_feed.enable', objectType: 'appointment_resource', objectId: id, details: { replacedPrevious: Boolean(r.feed_token_hash) } });
    await syncOrganizationRegister(services, trx, actor.organizationId); // the register of external services
    return { url: `${services.config.publicUrl}/ical/feed.ics?token=${token}`, enabledAt: updated.feed_enabled_at! };
  });
}

/** Switches the feed on, or replaces its URL (the old one stops working). The URL is shown once. */
export const enableFeed = async (services: Services, id: string) => (await feedResource(services, id, 'enable'))!;
export const revokeFeed = async (services: Services, id: string) => void (await feedResource(services, id, 'revoke'));
