// GET /home: the start page in one answer, each panel present only when the caller's roles hold
// its permission (null otherwise). Names are resolved at read time; nothing here is health data
// beyond what the underlying module shows the same role (today's list shows appointment status).
import { z } from 'zod';
import { isoDay, isoTime, named } from '../../http/response.ts';
import { STATUSES } from '../appointments/appointment.schema.ts';
import { UPDATE_OUTCOMES } from '../updates/update-record.ts';

const personName = z.strictObject({ givenName: z.string(), familyName: z.string() });

export const homeView = named('Home', z.strictObject({
  /** appointments.read: today's list in the practice's time zone (Wartezimmer). */
  today: z.strictObject({
    date: isoDay, timeZone: z.string(), total: z.int(), arrived: z.int(), waiting: z.int(), cancelled: z.int(),
    /** The next appointments not yet arrived, at most 5. */
    next: z.array(z.strictObject({ id: z.uuid(), patientId: z.uuid(), patient: personName, startsAt: isoTime, status: z.enum(STATUSES) })),
  }).nullable(),
  /** inbox.read: conversations not done, their unread messages, and those assigned to the caller. */
  inbox: z.strictObject({ open: z.int(), unread: z.int(), assignedToMe: z.int(), prospects: z.int() }).nullable(),
  /** patients.read: the caller's recently opened patients (from their own audit trail), newest first. */
  recentPatients: z.array(named('RecentPatient', personName.extend({
    id: z.uuid(), birthDate: isoDay, patientNumber: z.string().optional(), openedAt: isoTime,
  }))).nullable(),
  /** Work waiting: follow-ups to book (aftercare.read), restricted records (gdpr.restrict). */
  tasks: z.strictObject({ aftercareToBook: z.int().nullable(), restrictedRecords: z.int().nullable() }).nullable(),
  /** backup.read (installation): last success and failure, the next scheduled run. */
  backup: z.strictObject({
    configured: z.boolean(), targets: z.int(), schedule: z.string().nullable(), nextRunAt: isoTime.nullable(),
    lastSuccessAt: isoTime.nullable(), lastFailureAt: isoTime.nullable(), lastOutcome: z.enum(['succeeded', 'failed', 'running']).nullable(),
  }).nullable(),
  /** installation.updates: the running version and the newest update's outcome. */
  updates: z.strictObject({
    runningVersion: z.string(), lastOutcome: z.enum(UPDATE_OUTCOMES).nullable(), lastToVersion: z.string().nullable(), lastAt: isoTime.nullable(),
  }).nullable(),
}));
