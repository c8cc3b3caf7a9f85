// The report aggregates, in SQL over plain columns (ids, enums, times): nothing is decrypted. Each
// query runs in the request's transaction as the application role, so row-level security limits
// it to the caller's organization. Periods are the start day of the week (Monday) or month in the
// organization's time zone; the range is [from 00:00, to + 1 day 00:00) local time.
import type { Tx } from '../../db/connection.ts';

export interface Range { from: string; to: string; granularity: 'week' | 'month'; timeZone: string }
export interface Cell { period: string; key: string; n: number }

export const bounds = (r: Range) => [r.granularity, r.timeZone, r.from, r.timeZone, r.to, r.timeZone];
// date_trunc(granularity, local time) as the period; the range check on the indexed column
export const PERIOD = (col: string) => `date_trunc(?, ${col} at time zone ?)::date::text`;
export const IN_RANGE = (col: string) => `${col} >= (?::date)::timestamp at time zone ? and ${col} < ((?::date) + 1)::timestamp at time zone ?`;

export async function cells(trx: Tx, sql: string, bindings: unknown[]): Promise<Cell[]> {
  const { rows } = await trx.raw(sql, bindings as never[]);
  return rows.map((r: { period: string; key: string; n: string | number }) => ({ period: r.period, key: r.key, n: Number(r.n) }));
}

export function newPatients(trx: Tx, r: Range): Promise<Cell[]> {
  return cells(trx, `
    select ${PERIOD('created_at')} as period, 'source:' || coalesce(source_channel, 'unknown') as key, count(*) as n
      from patients where ${IN_RANGE('created_at')} group by 1, 2
    union all
    select ${PERIOD('created_at')}, 'prospects', count(*)
      from prospects where ${IN_RANGE('created_at')} group by 1`, [...bounds(r), ...bounds(r)]);
}

/**
 * The funnel of the enquiries made in a period (a cohort): patients and prospects created then;
 * each later stage counts the cohort's patients who reached it (at any time up to now).
 */
export function funnel(trx: Tx, r: Range): Promise<Cell[]> {
  return cells(trx, `
    with cohort as (
      select id, ${PERIOD('created_at')} as period from patients where ${IN_RANGE('created_at')}
    ), stages as (
      select c.period,
        exists (select 1 from record_entries e where e.patient_id = c.id and e.kind = 'anamnesis'
                  and e.prequal_status in ('qualified', 'needs_review')
                  and not exists (select 1 from record_entries s where s.supersedes_id = e.id)) as qualified,
        exists (select 1 from appointments a join appointment_types t on t.id = a.type_id
                 where a.patient_id = c.id and t.key = 'consultation' and a.status in ('arrived', 'in_treatment', 'done')) as consultation,
        exists (select 1 from appointments a join appointment_types t on t.id = a.type_id
                 where a.patient_id = c.id and t.key = 'surgery' and a.status not in ('cancelled', 'no_show')) as surgery
        from cohort c
    )
    select period, 'enquiry' as key, count(*) as n from stages group by 1
    union all select period, 'qualified', count(*) filter (where qualified) from stages group by 1
    union all select period, 'consultation', count(*) filter (where consultation) from stages group by 1
    union all select period, 'surgery', count(*) filter (where surgery) from stages group by 1
    union all select ${PERIOD('created_at')}, 'enquiry', count(*) from prospects where ${IN_RANGE('created_at')} group by 1`,
  [...bounds(r), ...bounds(r)]);
}

export function appointmentsByStatusAndType(trx: Tx, r: Range): Promise<Cell[]> {
  return cells(trx, `
    with a as (select ${PERIOD('starts_at')} as period, status, type_id from appointments where ${IN_RANGE('starts_at')})
    select period, 'status:' || status as key, count(*) as n from a group by 1, 2
    union all select period, 'type:' || type_id, count(*) from a group by 1, 2`, bounds(r));
}

/** Booked minutes per resource: appointments that hold the slot (neither cancelled nor no-show). */
export function bookedMinutes(trx: Tx, r: Range): Promise<Cell[]> {
  return cells(trx, `
    with a as (
      select ${PERIOD('starts_at')} as period, practitioner_id, room_id, extract(epoch from ends_at - starts_at) / 60 as minutes
        from appointments where ${IN_RANGE('starts_at')} and status not in ('cancelled', 'no_show')
    )
    select period, 'practitioner:' || practitioner_id as key, sum(minutes) as n from a where practitioner_id is not null group by 1, 2
    union all select period, 'room:' || room_id, sum(minutes) from a where room_id is not null group by 1, 2`, bounds(r));
}

export function messages(trx: Tx, r: Range): Promise<Cell[]> {
  return cells(trx, `
    select ${PERIOD('created_at')} as period,
           'message:' || channel || ':' || case when status in ('queued', 'sending') then 'pending' else status end as key, count(*) as n
      from outbox_messages where ${IN_RANGE('created_at')} group by 1, 2
    union all
    select ${PERIOD('received_at')}, 'inbound:whatsapp', count(*) from inbound_messages where ${IN_RANGE('received_at')} group by 1`,
  [...bounds(r), ...bounds(r)]);
}

/**
 * Inbox response time: per conversation (patient or prospect) and period, the first message
 * received in the period and the first reply written to that patient at or after it.
 */
export function responseTimes(trx: Tx, r: Range): Promise<Cell[]> {
  return cells(trx, `
    with firsts as (
      select ${PERIOD('received_at')} as period, patient_id, prospect_id, min(received_at) as first_in
        from inbound_messages where ${IN_RANGE('received_at')} group by 1, 2, 3
    ), answered as (
      select f.period, extract(epoch from (select min(o.created_at) from outbox_messages o
               where o.patient_id = f.patient_id and o.purpose = 'reply' and o.created_at >= f.first_in) - f.first_in) / 60 as minutes
        from firsts f
    )
    select period, 'conversations' as key, count(*) as n from answered group by 1
    union all select period, 'answered', count(minutes) from answered group by 1
    union all select period, 'median', percentile_cont(0.5) within group (order by minutes) from answered where minutes is not null group by 1
    union all select period, 'p90', percentile_cont(0.9) within group (order by minutes) from answered where minutes is not null group by 1`,
  bounds(r));
}

export interface NamedRow { id: string; kind?: string; name_de: string; name_en: string; active: boolean }

export async function appointmentTypes(trx: Tx): Promise<NamedRow[]> {
  return trx('appointment_types').select('id', 'name_de', 'name_en', 'active').orderBy(['name_en', 'id']);
}

export async function resources(trx: Tx): Promise<NamedRow[]> {
  const rows: { id: string; kind: string; name: string; active: boolean }[] = await trx('appointment_resources').select('id', 'kind', 'name', 'active').orderBy(['kind', 'name', 'id']);
  return rows.map((x) => ({ id: x.id, kind: x.kind, name_de: x.name, name_en: x.name, active: x.active }));
}

export interface SettingsRow { min_count: number; work_day_start: string; work_day_end: string; work_days: number[] }
export const DEFAULT_SETTINGS: SettingsRow = { min_count: 5, work_day_start: '08:00', work_day_end: '18:00', work_days: [1, 2, 3, 4, 5] };

export async function settings(trx: Tx): Promise<SettingsRow> {
  const row = await trx('report_settings').first('min_count', trx.raw("to_char(work_day_start, 'HH24:MI') as work_day_start"), trx.raw("to_char(work_day_end, 'HH24:MI') as work_day_end"), 'work_days');
  return row ?? DEFAULT_SETTINGS;
}

export async function saveSettings(trx: Tx, organizationId: string, s: SettingsRow, userId: string): Promise<void> {
  await trx('report_settings').insert({ organization_id: organizationId, ...s, updated_by: userId, updated_at: trx.fn.now() })
    .onConflict('organization_id').merge();
}
