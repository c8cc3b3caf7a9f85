// The start page (issue 12, item 6): what matters today for the caller's roles, in one request.
// Each panel runs only when the caller holds its permission and reuses the owning module's code
// (today's list, aftercare tasks, backup status, update history) or a count that decrypts nothing
// (inbox, restricted records). Recently opened patients come from the caller's own audit trail
// (action patient.read): no extra table, only ids there; names are decrypted here and the listing
// is audited like any patient list.
import { parse } from 'node-cron';
import { withScope } from '../../db/connection.ts';
import type { Actor } from '../../core/context.ts';
import { currentContext } from '../../core/context.ts';
import { unauthenticated } from '../../core/errors.ts';
import { permits, type Permission } from '../../core/permissions.ts';
import type { Services } from '../../http/services.ts';
import { audit } from '../audit/audit.service.ts';
import { today } from '../appointments/appointment.service.ts';
import { tasks } from '../aftercare/aftercare.service.ts';
import { backupStatus } from '../backup/backup.service.ts';
import * as backupRepo from '../backup/backup.repository.ts';
import { readUpdateHistory } from '../updates/update-history.service.ts';
import { findPatient, type PatientRow } from '../patients/patient.repository.ts';
import { readScope, toView } from '../patients/patient.service.ts';

export const RECENT_PATIENTS = 8;

/** The next time a five- or six-field cron expression fires after `from` (server local time, like node-cron), within 35 days. */
export function nextCronRun(expression: string, from = new Date()): Date | null {
  let f;
  try {
    f = parse(expression);
  } catch {
    return null;
  }
  const t = new Date(from);
  t.setSeconds(0, 0);
  for (let i = 0; i < 35 * 24 * 60; i++) {
    t.setMinutes(t.getMinutes() + 1);
    const dow = t.getDay();
    if (f.minute.includes(t.getMinutes()) && f.hour.includes(t.getHours()) && f.month.includes(t.getMonth() + 1)
      && f.dayOfMonth.map(Number).includes(t.getDate()) && f.dayOfWeek.map(Number).some((d) => d % 7 === dow)) {
      return new Date(t.getTime() + (f.second[0] ?? 0) * 1000);
    }
  }
  return null;
}

async function recentPatients(services: Services, actor: Actor) {
  return withScope(services.db, readScope(actor), async (trx) => {
    const { rows } = await trx.raw(`
      select object_id as id, max(created_at) as opened_at, max(id) as last
        from (select id, object_id, created_at from audit_log
               where organization_id = ? and actor_user_id = ? and action = 'patient.read' and outcome = 'success'
               order by id desc limit 300) r
       group by object_id order by last desc limit ?`, [actor.organizationId, actor.userId, RECENT_PATIENTS]) as { rows: { id: string; opened_at: Date }[] };
    const out = [];
    for (const r of rows) {
      const row = await findPatient(trx, r.id);
      if (!row || !row.data || row.anonymized_at) continue; // erased or anonymized since
      const v = await toView(services, trx, row as PatientRow & { data: Buffer });
      out.push({ id: v.id, givenName: v.givenName, familyName: v.familyName, birthDate: v.birthDate, ...(v.patientNumber ? { patientNumber: v.patientNumber } : {}), openedAt: r.opened_at });
    }
    await audit(trx, { action: 'patient.list', objectType: 'patient', details: { source: 'home_recent', ids: out.map((p) => p.id) } });
    return out;
  });
}

async function inboxCounts(services: Services, actor: Actor) {
  return withScope(services.db, readScope(actor), async (trx) => {
    const { rows } = await trx.raw(`
      with conv as (
        select i.patient_id, i.prospect_id, max(i.stored_at) as last_at, c.assigned_to, c.done_at,
               count(*) filter (where i.stored_at > coalesce(c.read_up_to, '-infinity')) as unread
          from inbound_messages i
          left join conversations c on c.patient_id = i.patient_id or c.prospect_id = i.prospect_id
         group by i.patient_id, i.prospect_id, c.assigned_to, c.done_at, c.read_up_to)
      select count(*) as open, coalesce(sum(unread), 0) as unread,
             count(*) filter (where assigned_to = ?) as mine, count(*) filter (where prospect_id is not null) as prospects
        from conv where done_at is null or done_at < last_at`, [actor.userId]);
    const r = rows[0];
    return { open: Number(r.open), unread: Number(r.unread), assignedToMe: Number(r.mine), prospects: Number(r.prospects) };
  });
}

async function restrictedCount(services: Services, actor: Actor): Promise<number> {
  return withScope(services.db, readScope(actor), async (trx) => {
    const [r] = await trx('patients').whereNotNull('restricted_at').whereNull('anonymized_at').count({ n: '*' });
    return Number(r.n);
  });
}

async function backupPanel(services: Services) {
  const status = await backupStatus(services);
  const failed = await backupRepo.lastJob(services.db, 'backup', 'failed');
  return {
    configured: status.targets.length > 0, targets: status.targets.length, schedule: status.schedule || null,
    nextRunAt: status.schedule && status.targets.length ? nextCronRun(status.schedule) : null,
    lastSuccessAt: status.lastSuccessfulBackup?.finishedAt ?? null, lastFailureAt: failed?.finished_at ?? failed?.started_at ?? null,
    lastOutcome: status.running.some((j) => j?.kind === 'backup') ? 'running' as const : (status.lastBackup?.status as 'succeeded' | 'failed' | undefined) ?? null,
  };
}

export async function home(services: Services) {
  const actor = currentContext()?.actor;
  if (!actor) throw unauthenticated();
  const may = (p: Permission) => permits(actor, p);
  // One after the other: a request's statements share its connection (request scope), so
  // parallel panels would only queue there.
  const todayList = may('appointments.read') ? await today(services) : null;
  const inbox = may('inbox.read') ? await inboxCounts(services, actor) : null;
  const recent = may('patients.read') ? await recentPatients(services, actor) : null;
  const aftercare = may('aftercare.read') ? await tasks(services, 0) : null;
  const restricted = may('gdpr.restrict') ? await restrictedCount(services, actor) : null;
  const backup = may('backup.read') ? await backupPanel(services) : null;
  const updates = may('installation.updates') ? await readUpdateHistory(services, { userId: actor.userId }, 1) : null;
  const live = todayList?.appointments.filter((a) => a.status !== 'cancelled' && a.status !== 'no_show') ?? [];
  return {
    today: todayList && {
      date: todayList.date, timeZone: todayList.timeZone, total: live.length,
      arrived: live.filter((a) => a.arrivedAt).length,
      waiting: live.filter((a) => a.arrivedAt && a.status === 'arrived').length,
      cancelled: todayList.appointments.length - live.length,
      next: live.filter((a) => !a.arrivedAt && new Date(a.endsAt).getTime() > Date.now()).slice(0, 5)
        .map((a) => ({ id: a.id, patientId: a.patientId, patient: { givenName: a.patient.givenName, familyName: a.patient.familyName }, startsAt: a.startsAt, status: a.status })),
    },
    inbox,
    recentPatients: recent,
    tasks: aftercare || restricted !== null ? { aftercareToBook: aftercare ? aftercare.tasks.length : null, restrictedRecords: restricted } : null,
    backup,
    updates: updates && {
      runningVersion: updates.runningVersion, lastOutcome: updates.history[0]?.outcome ?? null,
      lastToVersion: updates.history[0]?.toVersion ?? null, lastAt: updates.history[0]?.finishedAt ?? updates.history[0]?.startedAt ?? null,
    },
  };
}
