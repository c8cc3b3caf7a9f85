// The finance report, a report of the reports module (docs/reports.md, docs/finance.md): per week
// or month of the range, in integer cents (kind 'cents', never suppressed) — quotes sent, deposits
// requested, payments received, refunds, the amount open at the end of the period (accepted quotes
// minus what was paid and not refunded by then) — and the number of paying patients, a count that
// could identify a patient: below the organization's minimum count (report_settings) it is null and
// listed in `suppressed`. Periods, previous period, suppression, CSV, audit and the routes are the
// reports module's (runReport, reportRoutesFor); this file holds only the finance SQL. Aggregated
// in PostgreSQL as the application role (row-level security: the caller's organization only).
import type { Tx } from '../../db/connection.ts';
import { IN_RANGE, PERIOD, bounds, cells, type Cell, type Range } from '../reports/report.repository.ts';
import { periods } from '../reports/periods.ts';
import type { Define, Series } from '../reports/report.service.ts';
import type { SeriesRule } from '../reports/suppression.ts';

export const FINANCE_SERIES: Series[] = [
  { key: 'quotesCents', label: 'reports.series.finance.quotes', names: null, kind: 'cents' },
  { key: 'depositsCents', label: 'reports.series.finance.deposits', names: null, kind: 'cents' },
  { key: 'paymentsCents', label: 'reports.series.finance.payments', names: null, kind: 'cents' },
  { key: 'refundsCents', label: 'reports.series.finance.refunds', names: null, kind: 'cents' },
  { key: 'openCents', label: 'reports.series.finance.open', names: null, kind: 'cents' },
  { key: 'payingPatients', label: 'reports.series.finance.paying_patients', names: null, kind: 'count' },
];
const RULES: SeriesRule[] = FINANCE_SERIES.map((s) => ({ key: s.key, kind: s.kind }));

// payments and refunds carry a calendar day (a date column, no time zone)
const DAY_PERIOD = (col: string) => `date_trunc(?, ${col}::timestamp)::date::text`;
const DAY_IN_RANGE = (col: string) => `${col} >= ?::date and ${col} <= ?::date`;

/** Quotes sent, deposits requested, payments, refunds and paying patients per period. */
function flows(trx: Tx, r: Range): Promise<Cell[]> {
  const days = [r.granularity, r.from, r.to];
  return cells(trx, `
    select ${PERIOD('sent_at')} as period, 'quotesCents' as key, sum(total_cents) as n from quotes where ${IN_RANGE('sent_at')} group by 1
    union all
    select ${PERIOD('created_at')}, 'depositsCents', sum(amount_cents) from finance_deposits where cancelled_at is null and ${IN_RANGE('created_at')} group by 1
    union all
    select ${DAY_PERIOD('paid_on')}, 'paymentsCents', sum(amount_cents) from finance_payments where ${DAY_IN_RANGE('paid_on')} group by 1
    union all
    select ${DAY_PERIOD('paid_on')}, 'payingPatients', count(distinct patient_id) from finance_payments where ${DAY_IN_RANGE('paid_on')} group by 1
    union all
    select ${DAY_PERIOD('refunded_on')}, 'refundsCents', sum(amount_cents) from finance_refunds where ${DAY_IN_RANGE('refunded_on')} group by 1`,
  [...bounds(r), ...bounds(r), ...days, ...days, ...days]);
}

/** The amount open at each period's last day (within the range): accepted quotes minus payments net of refunds by then. */
function openAtEnd(trx: Tx, r: Range): Promise<Cell[]> {
  const ps = periods(r.from, r.to, r.granularity);
  return cells(trx, `
    with ends as (select * from unnest(?::date[], ?::text[]) as e(last_day, period)),
    accepted as (
      select id, total_cents, (decided_at at time zone ?)::date as decided
        from quotes where status = 'accepted' and decided_at is not null and (decided_at at time zone ?)::date <= ?::date
    )
    select e.period, 'openCents' as key, sum(greatest(0, a.total_cents
             - coalesce((select sum(p.amount_cents) from finance_payments p where p.quote_id = a.id and p.paid_on <= e.last_day), 0)
             + coalesce((select sum(f.amount_cents) from finance_refunds f join finance_payments p on p.id = f.payment_id
                          where p.quote_id = a.id and f.refunded_on <= e.last_day), 0))) as n
      from ends e join accepted a on a.decided <= e.last_day group by 1`,
  [ps.map((p) => p.last), ps.map((p) => p.start), r.timeZone, r.timeZone, r.to]);
}

export const financeDefinition: Define = async (trx, r) => ({
  cells: [...await flows(trx, r), ...await openAtEnd(trx, r)],
  def: {
    series: FINANCE_SERIES,
    rules: RULES,
    values: (_p, c) => Object.fromEntries(FINANCE_SERIES.map((s) => [s.key, c.get(s.key) ?? 0])),
  },
});
