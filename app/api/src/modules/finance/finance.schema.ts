// Request and answer schemas of the finance routes: quotes with line items, deposits, payments,
// refunds, Stripe checkouts, the finance view, receipts, settings and the finance report.
import { z } from 'zod';
import { isoDay, isoTime, named } from '../../http/response.ts';
import { isoDate } from '../patients/patient.schema.ts';
import { CURRENCIES, MAX_ITEMS, MAX_QUANTITY, MAX_UNIT_CENTS, VAT_CATEGORIES } from './finance.money.ts';

export const QUOTE_STATUSES = ['draft', 'sent', 'accepted', 'declined', 'expired', 'cancelled'] as const;
export type QuoteStatus = (typeof QUOTE_STATUSES)[number];
export const PAYMENT_METHODS = ['bank_transfer', 'cash', 'card_terminal', 'stripe'] as const;
export const MANUAL_METHODS = ['bank_transfer', 'cash', 'card_terminal'] as const;
/** One amount in integer cents: never negative, never fractional, below Stripe's and our limits. */
const cents = (max: number) => z.number().int().min(1).max(max);

export const quoteIdParams = z.strictObject({ quoteId: z.uuid() });
export const paymentIdParams = z.strictObject({ paymentId: z.uuid() });
export const checkoutIdParams = z.strictObject({ checkoutId: z.uuid() });

const itemBody = z.strictObject({
  /** Shown to clinical roles only (it may name the treatment); encrypted with the patient's key. */
  description: z.string().trim().min(1).max(500),
  quantity: z.number().int().min(1).max(MAX_QUANTITY),
  /** Net unit price in cents. */
  unitCents: z.number().int().min(0).max(MAX_UNIT_CENTS),
  /** medical_exempt: medical treatment, VAT-exempt under § 4 Nr. 14 UStG; standard 19 %; reduced 7 %. */
  vatCategory: z.enum(VAT_CATEGORIES),
});
export const quoteBody = z.strictObject({
  /** The patient's treatment plan (a record entry of kind plan) the quote belongs to. */
  planEntryId: z.uuid(),
  currency: z.enum(CURRENCIES),
  items: z.array(itemBody).min(1).max(MAX_ITEMS),
  validUntil: isoDate.optional(),
  /** When the (rest of the) amount is due; overdue after that day. */
  dueDate: isoDate.optional(),
});
export type QuoteInput = z.infer<typeof quoteBody>;

export const statusBody = z.strictObject({ status: z.enum(['sent', 'accepted', 'declined', 'expired', 'cancelled']) });
export const depositBody = z.strictObject({ amountCents: cents(MAX_UNIT_CENTS * 100), dueDate: isoDate });
export const paymentBody = z.strictObject({
  amountCents: cents(MAX_UNIT_CENTS * 100),
  method: z.enum(MANUAL_METHODS),
  paidOn: isoDate,
  depositId: z.uuid().optional(),
  /** Bank reference or terminal receipt number; no free text about the treatment. */
  reference: z.string().trim().max(140).optional(),
});
export const refundBody = z.strictObject({
  amountCents: cents(MAX_UNIT_CENTS * 100),
  refundedOn: isoDate.optional(),
  /** For a Stripe payment: refund through Stripe (default) or record one done elsewhere. */
  method: z.enum(PAYMENT_METHODS).optional(),
});
export const checkoutBody = z.strictObject({ depositId: z.uuid().optional() });
export const settingsBody = z.strictObject({ stripeEnabled: z.boolean(), shareContact: z.boolean() });

export const overviewQuery = z.strictObject({
  status: z.enum(['all', 'open', 'overdue', 'paid']).optional(),
  /** Part of the patient's name (case-insensitive). */
  q: z.string().trim().max(100).optional(),
});
// ---- answers ----
const itemView = z.strictObject({
  position: z.number().int(), quantity: z.number().int(), unitCents: z.number().int(), vatCategory: z.enum(VAT_CATEGORIES),
  vatRateBp: z.number().int(), netCents: z.number().int(), vatCents: z.number().int(), totalCents: z.number().int(),
  /** null for roles without health.read (finance) and once the record is anonymized. */
  description: z.string().nullable(),
});
const depositView = z.strictObject({
  id: z.uuid(), reference: z.string(), amountCents: z.number().int(), dueDate: isoDay, paidCents: z.number().int(),
  cancelled: z.boolean(), createdAt: isoTime,
});
const refundView = z.strictObject({ id: z.uuid(), amountCents: z.number().int(), refundedOn: isoDay, method: z.enum(PAYMENT_METHODS), stripeRefundId: z.string().nullable() });
const paymentView = z.strictObject({
  id: z.uuid(), receiptNumber: z.string(), method: z.enum(PAYMENT_METHODS), amountCents: z.number().int(), paidOn: isoDay,
  depositId: z.uuid().nullable(), reference: z.string().nullable(), refunds: z.array(refundView), refundedCents: z.number().int(),
});
const checkoutView = z.strictObject({
  id: z.uuid(), depositId: z.uuid().nullable(), sessionId: z.string(), url: z.string().nullable(), amountCents: z.number().int(),
  status: z.enum(['open', 'complete', 'expired']), createdAt: isoTime,
});
const patientName = z.strictObject({ id: z.uuid(), givenName: z.string(), familyName: z.string(), email: z.string().nullable() });
export const quoteView = named('Quote', z.strictObject({
  id: z.uuid(), reference: z.string(), patient: patientName, planEntryId: z.uuid().nullable(), currency: z.enum(CURRENCIES),
  status: z.enum(QUOTE_STATUSES), netCents: z.number().int(), vatCents: z.number().int(), totalCents: z.number().int(),
  vatByRate: z.array(z.strictObject({ vatRateBp: z.number().int(), netCents: z.number().int(), vatCents: z.number().int() })),
  validUntil: isoDay.nullable(), dueDate: isoDay.nullable(), createdAt: isoTime, sentAt: isoTime.nullable(), decidedAt: isoTime.nullable(),
  /** Whether the caller may see the line item descriptions (health.read). */
  descriptionsVisible: z.boolean(),
  items: z.array(itemView), deposits: z.array(depositView), payments: z.array(paymentView), checkouts: z.array(checkoutView),
  paidCents: z.number().int(), refundedCents: z.number().int(), openCents: z.number().int(), overdueCents: z.number().int(),
}));
export const quoteResult = z.strictObject({ quote: quoteView });
export const quotesResult = z.strictObject({ quotes: z.array(quoteView) });
export const checkoutResult = z.strictObject({ checkout: checkoutView, quote: quoteView });

const totals = z.strictObject({ quotedCents: z.number().int(), paidCents: z.number().int(), refundedCents: z.number().int(), openCents: z.number().int(), overdueCents: z.number().int() });
export const overviewResult = z.strictObject({
  date: isoDay,
  totals,
  patients: z.array(z.strictObject({ patient: patientName, quotes: z.number().int(), ...totals.shape, nextDueDate: isoDay.nullable() })),
  quotes: z.array(z.strictObject({
    id: z.uuid(), reference: z.string(), patientId: z.uuid(), status: z.enum(QUOTE_STATUSES), totalCents: z.number().int(),
    paidCents: z.number().int(), openCents: z.number().int(), overdueCents: z.number().int(), dueDate: isoDay.nullable(), createdAt: isoTime,
  })),
});

export const receiptResult = z.strictObject({
  receipt: z.strictObject({
    receiptNumber: z.string(), paidOn: isoDay, amountCents: z.number().int(), currency: z.enum(CURRENCIES), method: z.enum(PAYMENT_METHODS),
    refundedCents: z.number().int(), quoteReference: z.string(), depositReference: z.string().nullable(), reference: z.string().nullable(),
    organization: z.strictObject({ name: z.string() }),
    patient: z.strictObject({ givenName: z.string(), familyName: z.string(), address: z.strictObject({ street: z.string(), postalCode: z.string(), city: z.string(), country: z.string() }).nullable() }),
    /** The quote's VAT split (a payment counts towards the quote). */
    vatByRate: z.array(z.strictObject({ vatRateBp: z.number().int(), netCents: z.number().int(), vatCents: z.number().int() })),
    quoteTotalCents: z.number().int(),
  }),
});

export const settingsResult = z.strictObject({
  stripeEnabled: z.boolean(), shareContact: z.boolean(), since: isoTime.nullable(),
  /** Whether the two secret files are installed on the server. */
  secretKeyInstalled: z.boolean(), webhookSecretInstalled: z.boolean(),
  /** The path Stripe posts its events to (below the server's public address). */
  webhookPath: z.string(),
});
