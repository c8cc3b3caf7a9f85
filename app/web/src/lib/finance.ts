// The finance calls of the API client (typed by api.generated.ts) and money formatting: amounts
// are integer cents on the wire, shown in the UI language's currency format.
import { call, client } from './api.ts';
import type { components, paths } from './api.generated.ts';
import { i18n } from './i18n/i18n.svelte.ts';

type Schemas = components['schemas'];
type JsonOf<T> = T extends { content: { 'application/json': infer J } } ? J : never;
type BodyOf<P extends keyof paths, M extends 'post' | 'put'> = paths[P][M] extends { requestBody?: infer B } ? JsonOf<NonNullable<B>> : never;

export type Quote = Schemas['Quote'];
export type QuoteInput = BodyOf<'/api/v1/patients/{id}/quotes', 'post'>;
export type PaymentInput = BodyOf<'/api/v1/quotes/{quoteId}/payments', 'post'>;
export type FinanceSettings = BodyOf<'/api/v1/finance/settings', 'put'>;
export type QuoteStatus = Quote['status'];
export type VatCategory = Quote['items'][number]['vatCategory'];
export const VAT_CATEGORIES: VatCategory[] = ['medical_exempt', 'standard', 'reduced'];
export const MANUAL_METHODS: PaymentInput['method'][] = ['bank_transfer', 'cash', 'card_terminal'];
/** The status changes offered from each status (the API decides; this only hides buttons). */
export const NEXT_STATUS: Record<QuoteStatus, Exclude<QuoteStatus, 'draft'>[]> = {
  draft: ['sent', 'cancelled'], sent: ['accepted', 'declined', 'cancelled'], accepted: ['cancelled'], declined: [], expired: ['sent'], cancelled: [],
};

const quote = (quoteId: string) => ({ path: { quoteId } });

export const financeApi = {
  overview: (query: { status?: 'all' | 'open' | 'overdue' | 'paid'; q?: string } = {}) => call(client.GET('/api/v1/finance/overview', { params: { query } })),
  patientQuotes: (id: string) => call(client.GET('/api/v1/patients/{id}/quotes', { params: { path: { id } } })),
  createQuote: (id: string, body: QuoteInput) => call(client.POST('/api/v1/patients/{id}/quotes', { params: { path: { id } }, body })),
  quote: (quoteId: string) => call(client.GET('/api/v1/quotes/{quoteId}', { params: quote(quoteId) })),
  setStatus: (quoteId: string, status: Exclude<QuoteStatus, 'draft'>) => call(client.POST('/api/v1/quotes/{quoteId}/status', { params: quote(quoteId), body: { status } })),
  requestDeposit: (quoteId: string, body: { amountCents: number; dueDate: string }) => call(client.POST('/api/v1/quotes/{quoteId}/deposits', { params: quote(quoteId), body })),
  recordPayment: (quoteId: string, body: PaymentInput) => call(client.POST('/api/v1/quotes/{quoteId}/payments', { params: quote(quoteId), body })),
  checkout: (quoteId: string, depositId?: string) => call(client.POST('/api/v1/quotes/{quoteId}/checkout', { params: quote(quoteId), body: depositId ? { depositId } : {} })),
  refreshCheckout: (checkoutId: string) => call(client.POST('/api/v1/finance/checkouts/{checkoutId}/refresh', { params: { path: { checkoutId } } })),
  refund: (paymentId: string, amountCents: number) => call(client.POST('/api/v1/finance/payments/{paymentId}/refunds', { params: { path: { paymentId } }, body: { amountCents } })),
  receipt: (paymentId: string) => call(client.GET('/api/v1/finance/payments/{paymentId}/receipt', { params: { path: { paymentId } } })),
  report: (from: string, to: string) => call(client.GET('/api/v1/reports/finance', { params: { query: { from, to, granularity: 'month' } } })),
  settings: () => call(client.GET('/api/v1/finance/settings')),
  saveSettings: (body: FinanceSettings) => call(client.PUT('/api/v1/finance/settings', { body })),
};

/** 123456 → "1.234,56 €" (de) or "€1,234.56" (en). */
export function money(cents: number, currency = 'EUR'): string {
  return new Intl.NumberFormat(i18n.locale === 'de' ? 'de-DE' : 'en-GB', { style: 'currency', currency }).format(cents / 100);
}

/** "1234,5" or "1234.50" (what a person types) → cents; NaN when it is not an amount. */
export function parseCents(text: string): number {
  const s = text.trim().replace(/\s/g, '');
  const m = /^(\d{1,9})(?:[.,](\d{1,2}))?$/.exec(s);
  if (!m) return Number.NaN;
  return Number(m[1]) * 100 + Number((m[2] ?? '0').padEnd(2, '0'));
}

/** The finance report as CSV in the UI language (money columns in integer EUR cents, docs/reports.md). */
export const financeCsvUrl = (from: string, to: string) => `/api/v1/reports/finance.csv?from=${from}&to=${to}&granularity=month&lang=${i18n.locale}`;
