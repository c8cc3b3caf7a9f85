// GET /reports/finance (the reports contract of the brief): per week or month of the range, in
// integer cents — quotes sent, deposits requested, payments received, refunds, the amount open at
// the end of the period (accepted quotes minus what was paid and not refunded by then) — and the
// number of paying patients, which is a count that could identify a patient: below minCount it is
// null and listed in `suppressed` (money sums are not suppressed). The same for the period of the
// same length just before (`previous`). CSV with neutralised cells.
import { withScope, type Tx } from '../../db/connection.ts';
import { authorize } from '../../core/authorize.ts';
import { validation } from '../../core/errors.ts';
import type { Services } from '../../http/services.ts';
import { audit } from '../audit/audit.service.ts';
import { organizationTimeZone } from '../appointments/appointment.repository.ts';
import { localDay } from '../appointments/time-zone.ts';
import { readScope } from '../patients/patient.service.ts';

export const REPORT_MIN_COUNT = 5;
export const FINANCE_SERIES = [
  { key: 'quotesCents', label: 'finance.report.quotes' },
  { key: 'depositsCents', label: 'finance.report.deposits' },
  { key: 'paymentsCents', label: 'finance.report.payments' },
  { key: 'refundsCents', label: 'finance.report.refunds' },
  { key: 'openCents', label: 'finance.report.open' },
  { key: 'payingPatients', label: 'finance.report.payingPatients' },
] as const;
const MAX_DAYS = 3 * 366;

const dayMs = 86_400_000;
const toDate = (d: string) => new Date(`${d}T00:00:00Z`);
const fmt = (d: Date) => d.toISOString().slice(0, 10);
export const addDays = (d: string, n: number) => fmt(new Date(toDate(d).getTime() + n * dayMs));

/** The periods covering [from, to]: months "YYYY-MM" or ISO weeks named by their Monday. */
export function periods(from: string, to: string, granularity: 'week' | 'month'): { key: string; start: string; end: string }[] {
  const out: { key: string; start: string; end: string }[] = [];
  if (granularity === 'month') {
    let y = Number(from.slice(0, 4));
    let m = Number(from.slice(5, 7));
    for (;;) {
      const start = `${y}-${String(m).padStart(2, '0')}-01`;
      if (start > to) break;
      const next = m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
      out.push({ key: start.slice(0, 7), start, end: addDays(next, -1) });
      if (m === 12) { y++; m = 1; } else m++;
    }
  } else {
    const dow = (toDate(from).getUTCDay() + 6) % 7;
    for (let start = addDays(from, -dow); start <= to; start = addDays(start, 7)) out.push({ key: start, start, end: addDays(start, 6) });
  }
  return out;
}

interface Facts {
  quotes: { day: string | null; total: number; decidedDay: string | null; status: string; id: string }[];
  deposits: { day: string; amount: number }[];
  payments: { day: string; amount: number; patient: string; quote: string }[];
  refunds: { day: string; amount: number; quote: string }[];
}

async function facts(trx: Tx, zone: string): Promise<Facts> {
  const d = (t: Date | null) => (t ? localDay(t, zone) : null);
  const q = await trx('quotes').select('id', 'status', 'total_cents', 'sent_at', 'decided_at');
  const dep = await trx('finance_deposits').whereNull('cancelled_at').select('amount_cents', 'created_at');
  const pay = await trx('finance_payments').select('amount_cents', 'patient_id', 'quote_id', trx.raw('paid_on::text as paid_on'));
  const ref = await trx('finance_refunds as r').join('finance_payments as p', 'p.id', 'r.payment_id').select('r.amount_cents', 'p.quote_id', trx.raw('r.refunded_on::text as refunded_on'));
  return {
    quotes: q.map((r) => ({ id: r.id, status: r.status, total: Number(r.total_cents), day: d(r.sent_at), decidedDay: d(r.decided_at) })),
    deposits: dep.map((r) => ({ amount: Number(r.amount_cents), day: d(r.created_at)! })),
    payments: pay.map((r) => ({ amount: Number(r.amount_cents), day: r.paid_on, patient: r.patient_id, quote: r.quote_id })),
    refunds: ref.map((r) => ({ amount: Number(r.amount_cents), day: r.refunded_on, quote: r.quote_id })),
  };
}

function rowsFor(f: Facts, from: string, to: string, granularity: 'week' | 'month', minCount: number) {
  return periods(from, to, granularity).map((p) => {
    const s = p.start < from ? from : p.start;
    const e = p.end > to ? to : p.end;
    const inP = (day: string | null) => !!day && day >= s && day <= e;
    const sum = <T extends { amount: number }>(xs: T[]) => xs.reduce((a, x) => a + x.amount, 0);
    const accepted = f.quotes.filter((q) => q.status === 'accepted' && q.decidedDay && q.decidedDay <= e);
    let open = 0;
    for (const q of accepted) {
      const paid = sum(f.payments.filter((x) => x.quote === q.id && x.day <= e)) - sum(f.refunds.filter((x) => x.quote === q.id && x.day <= e));
      open += Math.max(0, q.total - paid);
    }
    const paying = new Set(f.payments.filter((x) => inP(x.day)).map((x) => x.patient)).size;
    const suppressed = paying > 0 && paying < minCount ? ['payingPatients'] : [];
    return {
      period: p.key,
      values: {
        quotesCents: f.quotes.filter((q) => inP(q.day)).reduce((a, q) => a + q.total, 0),
        depositsCents: sum(f.deposits.filter((x) => inP(x.day))),
        paymentsCents: sum(f.payments.filter((x) => inP(x.day))),
        refundsCents: sum(f.refunds.filter((x) => inP(x.day))),
        openCents: open,
        payingPatients: suppressed.length ? null : paying,
      } as Record<string, number | null>,
      suppressed,
    };
  });
}

export async function financeReport(services: Services, q: { from: string; to: string; granularity?: 'week' | 'month' }) {
  const actor = authorize('finance.read');
  if (q.to < q.from) throw validation('query.to', 'lies before from', 'before_from');
  const days = (toDate(q.to).getTime() - toDate(q.from).getTime()) / dayMs + 1;
  if (days > MAX_DAYS) throw validation('query.to', `the range may span at most ${MAX_DAYS} days`, 'too_large');
  const granularity = q.granularity ?? 'month';
  return withScope(services.db, readScope(actor), async (trx) => {
    const f = await facts(trx, await organizationTimeZone(trx, actor.organizationId));
    const prevTo = addDays(q.from, -1);
    const prevFrom = addDays(prevTo, -(days - 1));
    await audit(trx, { action: 'report.finance.read', objectType: 'report', objectId: 'finance', details: { from: q.from, to: q.to, granularity } });
    return {
      report: 'finance' as const, from: q.from, to: q.to, granularity, minCount: REPORT_MIN_COUNT,
      series: FINANCE_SERIES.map((s) => ({ key: s.key, label: s.label })),
      rows: rowsFor(f, q.from, q.to, granularity, REPORT_MIN_COUNT),
      previous: { from: prevFrom, to: prevTo, rows: rowsFor(f, prevFrom, prevTo, granularity, REPORT_MIN_COUNT) },
    };
  });
}

/** A CSV cell that a spreadsheet will not run as a formula (=, +, -, @, tab, CR at the start). */
export function csvCell(v: string | number | null): string {
  let s = v === null ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s)) s = `'${s}`;
  return /[",\n\r;]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function financeCsv(r: Awaited<ReturnType<typeof financeReport>>): string {
  const keys = r.series.map((s) => s.key);
  const lines = [['period', ...keys].map(csvCell).join(',')];
  for (const row of r.rows) lines.push([row.period, ...keys.map((k) => row.values[k] ?? null)].map(csvCell).join(','));
  return lines.join('\r\n') + '\r\n';
}
