// Appointment messages through the durable outbox, written in the same transaction as the
// appointment change (issue 11, item 1): a confirmation on booking, a change message on a move, a
// cancellation on cancel, and reminders at the appointment type's offsets (default one 24 h before)
// that follow the appointment when it moves (same dedup key) and are cancelled when it is
// cancelled or marked no-show. A reminder whose time has already passed is not sent.
//
// Channel per patient: WhatsApp when the messaging core would send it there (channel on, consent,
// a number), else e-mail. When neither channel is switched on for the organization, nothing is
// written (no pile of "channel off" rows). Otherwise the messaging core decides, and a blocked
// message stays visible with its reason (objection, restriction, no consent, ...).
// Dedup keys carry ids only: appointment:<id>:confirmation | :change:v<version> | :cancellation |
// :reminder:<minutes>m.
import type { Tx } from '../../db/connection.ts';
import type { Services } from '../../http/services.ts';
import { enqueueMessage, loadPatient, sendDecision } from '../messaging/outbox.service.ts';
import { languageFor, type MessageChannel, type MessagePurpose } from '../messaging/message-templates.ts';
import * as msgRepo from '../messaging/messaging.repository.ts';

export const DEFAULT_REMINDER_OFFSETS = [1440];
const key = (appointmentId: string, what: string) => `appointment:${appointmentId}:${what}`;
const reminderKey = (appointmentId: string, minutes: number) => key(appointmentId, `reminder:${minutes}m`);

export interface AppointmentFacts {
  id: string;
  organizationId: string;
  patientId: string;
  startsAt: Date;
  version: number;
  /** The type's reminder offsets in minutes before the start. */
  reminderOffsets: readonly number[];
  timeZone: string;
}

/** Date and time of the appointment as the patient reads them: the organization's zone, the patient's language. */
export function appointmentWhen(startsAt: Date, timeZone: string, language: 'de' | 'en'): { appointmentDate: string; appointmentTime: string } {
  const locale = language === 'en' ? 'en-GB' : 'de-DE';
  const appointmentDate = new Intl.DateTimeFormat(locale, language === 'en'
    ? { timeZone, day: 'numeric', month: 'long', year: 'numeric' }
    : { timeZone, day: '2-digit', month: '2-digit', year: 'numeric' }).format(startsAt);
  const appointmentTime = new Intl.DateTimeFormat(locale, { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(startsAt);
  return { appointmentDate, appointmentTime };
}

interface Context {
  channel: MessageChannel;
  variables: Record<string, string>;
}

/** Which channel and what the variables say; undefined when the organization has no channel on. */
async function context(services: Services, trx: Tx, a: AppointmentFacts): Promise<Context | undefined> {
  const channels = await msgRepo.channelRow(trx, a.organizationId);
  if (!channels.whatsapp_enabled && !channels.email_enabled) return undefined;
  const { row, master } = await loadPatient(services, trx, a.patientId);
  // Purpose and "automated" do not change the channel answer; objection/restriction block both.
  const whatsappReason = await sendDecision(trx, row, master, channels, 'appointment_reminder', 'whatsapp', false);
  const channel: MessageChannel = whatsappReason === undefined || !channels.email_enabled ? 'whatsapp' : 'email';
  return { channel, variables: appointmentWhen(a.startsAt, a.timeZone, languageFor(master?.language)) };
}

async function send(services: Services, trx: Tx, a: AppointmentFacts, actorUserId: string | null, c: Context, purpose: MessagePurpose, dedupKey: string, sendAt?: Date) {
  return enqueueMessage(services, trx, a.organizationId, actorUserId, { patientId: a.patientId, purpose, channel: c.channel, sendAt, dedupKey, variables: c.variables });
}

/** Reminders at the current offsets; queued ones of offsets no longer due (or removed) are cancelled. */
async function scheduleReminders(services: Services, trx: Tx, a: AppointmentFacts, actorUserId: string | null, c: Context, now: Date): Promise<void> {
  await releaseClosedReminders(trx, a.id);
  const keep: string[] = [];
  for (const minutes of [...new Set(a.reminderOffsets)]) {
    const sendAt = new Date(a.startsAt.getTime() - minutes * 60_000);
    if (sendAt.getTime() <= now.getTime()) continue; // its time has passed: not sent
    const dedupKey = reminderKey(a.id, minutes);
    keep.push(dedupKey);
    await send(services, trx, a, actorUserId, c, 'appointment_reminder', dedupKey, sendAt);
  }
  await cancelReminders(trx, a.id, keep);
}

/**
 * A blocked or cancelled reminder keeps its row (visible with its reason) but gives its dedup key
 * free ("…:closed:<outbox id>"), so that rescheduling decides afresh: after a no-show is planned
 * again, or an objection was withdrawn and the appointment moves, the reminder is queued again.
 */
async function releaseClosedReminders(trx: Tx, appointmentId: string): Promise<void> {
  await trx('outbox_messages')
    .where('dedup_key', 'like', `${key(appointmentId, 'reminder:')}%`).whereNot('dedup_key', 'like', '%:closed:%')
    .whereIn('status', ['blocked', 'cancelled'])
    .update({ dedup_key: trx.raw("dedup_key || ':closed:' || id::text"), updated_at: trx.fn.now() });
}

/** Cancels the appointment's queued reminders (except `keep`); returns how many. */
async function cancelReminders(trx: Tx, appointmentId: string, keep: string[] = []): Promise<number> {
  const rows = await trx('outbox_messages')
    .where('dedup_key', 'like', `${key(appointmentId, 'reminder:')}%`)
    .whereNotIn('dedup_key', keep).where({ status: 'queued' })
    .update({ status: 'cancelled', finished_at: trx.fn.now(), updated_at: trx.fn.now() }, ['id']);
  return rows.length;
}

/** Cancels every queued message of the appointment (confirmation, change, reminders). */
async function cancelAllQueued(trx: Tx, appointmentId: string): Promise<void> {
  await trx('outbox_messages').where('dedup_key', 'like', `${key(appointmentId, '')}%`).where({ status: 'queued' })
    .update({ status: 'cancelled', finished_at: trx.fn.now(), updated_at: trx.fn.now() });
}

/** Booking: a confirmation (for an appointment still ahead) and the reminders. */
export async function onBooked(services: Services, trx: Tx, a: AppointmentFacts, actorUserId: string | null, now = new Date()): Promise<void> {
  if (a.startsAt.getTime() <= now.getTime()) return;
  const c = await context(services, trx, a);
  if (!c) return;
  await send(services, trx, a, actorUserId, c, 'appointment_confirmation', key(a.id, 'confirmation'));
  await scheduleReminders(services, trx, a, actorUserId, c, now);
}

/** A move (start changed): a change message, and the reminders follow. */
export async function onMoved(services: Services, trx: Tx, a: AppointmentFacts, actorUserId: string | null, now = new Date()): Promise<void> {
  if (a.startsAt.getTime() <= now.getTime()) {
    await cancelReminders(trx, a.id);
    return;
  }
  const c = await context(services, trx, a);
  if (!c) return void (await cancelReminders(trx, a.id));
  await send(services, trx, a, actorUserId, c, 'appointment_change', key(a.id, `change:v${a.version}`));
  await scheduleReminders(services, trx, a, actorUserId, c, now);
}

/** Type changed without a move: the reminders take the new type's offsets. */
export async function onRescheduled(services: Services, trx: Tx, a: AppointmentFacts, actorUserId: string | null, now = new Date()): Promise<void> {
  const c = a.startsAt.getTime() > now.getTime() ? await context(services, trx, a) : undefined;
  if (!c) return void (await cancelReminders(trx, a.id));
  await scheduleReminders(services, trx, a, actorUserId, c, now);
}

/** Cancelled: nothing queued goes out; the patient is told (when the appointment was still ahead). */
export async function onCancelled(services: Services, trx: Tx, a: AppointmentFacts, actorUserId: string | null, now = new Date()): Promise<void> {
  await cancelAllQueued(trx, a.id);
  if (a.startsAt.getTime() <= now.getTime()) return;
  const c = await context(services, trx, a);
  if (c) await send(services, trx, a, actorUserId, c, 'appointment_cancellation', key(a.id, 'cancellation'));
}

/** A no-show planned again: the reminders still ahead are queued again. */
export async function onReplanned(services: Services, trx: Tx, a: AppointmentFacts, actorUserId: string | null, now = new Date()): Promise<void> {
  await onRescheduled(services, trx, a, actorUserId, now);
}

/** No-show: the reminders that have not gone out are cancelled; no message. */
export async function onNoShow(trx: Tx, appointmentId: string): Promise<void> {
  await cancelReminders(trx, appointmentId);
}
