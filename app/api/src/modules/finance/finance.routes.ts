import { defineRoute } from '../../http/route.ts';
import { created, ok } from '../../http/response.ts';
import { idParams } from '../patients/patient.schema.ts';
import {
  checkoutBody, checkoutIdParams, checkoutResult, depositBody, overviewQuery, overviewResult, paymentBody, paymentIdParams,
  quoteBody, quoteIdParams, quoteResult, quotesResult, receiptResult, refundBody, settingsBody, settingsResult, statusBody,
} from './finance.schema.ts';
import { createQuote, getQuote, overview, patientQuotes, receipt, recordPayment, requestDeposit, setStatus, updateQuote } from './finance.service.ts';
import { createCheckout, getSettings, putSettings, refreshCheckout, refundPayment } from './stripe.service.ts';
import { reportRoutesFor } from '../reports/report.routes.ts';
import { financeDefinition } from './finance.report.ts';

const tags = ['finance'];

export const financeRoutes = [
  defineRoute({
    method: 'get', path: '/patients/:id/quotes', access: 'finance.read', tags, params: idParams,
    summary: 'A patient\'s quotes with deposits, payments, refunds and what is open (item descriptions only with health.read; audited)',
    response: ok(quotesResult),
    handler: ({ services, params }) => patientQuotes(services, params.id),
  }),
  defineRoute({
    method: 'post', path: '/patients/:id/quotes', access: 'quotes.write', tags, params: idParams, body: quoteBody,
    summary: 'Write a quote (Kostenvoranschlag) for a treatment plan: line items, VAT category per item, totals in cents (per line, half-up)',
    response: created(quoteResult),
    handler: async ({ ctx, services, params, body }) => {
      ctx.status = 201;
      ctx.body = { quote: await createQuote(services, params.id, body) };
    },
  }),
  defineRoute({
    method: 'get', path: '/quotes/:quoteId', access: 'finance.read', tags, params: quoteIdParams,
    summary: 'One quote (audited read)',
    response: ok(quoteResult),
    handler: ({ services, params }) => getQuote(services, params.quoteId),
  }),
  defineRoute({
    method: 'put', path: '/quotes/:quoteId', access: 'quotes.write', tags, params: quoteIdParams, body: quoteBody,
    summary: 'Replace a draft quote\'s line items and dates',
    response: ok(quoteResult),
    handler: async ({ services, params, body }) => ({ quote: await updateQuote(services, params.quoteId, body) }),
  }),
  defineRoute({
    method: 'post', path: '/quotes/:quoteId/status', access: 'finance.write', tags, params: quoteIdParams, body: statusBody,
    summary: 'Send, accept, decline, expire or cancel a quote',
    response: ok(quoteResult),
    handler: async ({ services, params, body }) => ({ quote: await setStatus(services, params.quoteId, body.status) }),
  }),
  defineRoute({
    method: 'post', path: '/quotes/:quoteId/deposits', access: 'finance.write', tags, params: quoteIdParams, body: depositBody,
    summary: 'Request a deposit (Anzahlung) on a quote with a due date',
    response: created(quoteResult),
    handler: async ({ ctx, services, params, body }) => {
      ctx.status = 201;
      ctx.body = await requestDeposit(services, params.quoteId, body);
    },
  }),
  defineRoute({
    method: 'post', path: '/quotes/:quoteId/payments', access: 'finance.write', tags, params: quoteIdParams, body: paymentBody,
    summary: 'Record a payment received by bank transfer, in cash or at the card terminal',
    response: created(quoteResult),
    handler: async ({ ctx, services, params, body }) => {
      ctx.status = 201;
      ctx.body = await recordPayment(services, params.quoteId, body);
    },
  }),
  defineRoute({
    method: 'post', path: '/quotes/:quoteId/checkout', access: 'finance.write', tags, params: quoteIdParams, body: checkoutBody,
    summary: 'Create a Stripe payment link (Checkout Session) for what is open on the quote or one deposit (Stripe must be switched on)',
    response: created(checkoutResult),
    handler: async ({ ctx, services, params, body }) => {
      ctx.status = 201;
      ctx.body = await createCheckout(services, params.quoteId, body);
    },
  }),
  defineRoute({
    method: 'post', path: '/finance/checkouts/:checkoutId/refresh', access: 'finance.write', tags, params: checkoutIdParams,
    summary: 'Ask Stripe for a payment link\'s state now (when its webhook is late)',
    response: ok(checkoutResult),
    handler: ({ services, params }) => refreshCheckout(services, params.checkoutId),
  }),
  defineRoute({
    method: 'post', path: '/finance/payments/:paymentId/refunds', access: 'finance.write', tags, params: paymentIdParams, body: refundBody,
    summary: 'Refund (part of) a payment: through Stripe for a Stripe payment, else recorded as done by hand',
    response: created(quoteResult),
    handler: async ({ ctx, services, params, body }) => {
      ctx.status = 201;
      ctx.body = await refundPayment(services, params.paymentId, body);
    },
  }),
  defineRoute({
    method: 'get', path: '/finance/payments/:paymentId/receipt', access: 'finance.read', tags, params: paymentIdParams,
    summary: 'The data of a payment receipt (Quittung) for the print view (audited)',
    response: ok(receiptResult),
    handler: ({ services, params }) => receipt(services, params.paymentId),
  }),
  defineRoute({
    method: 'get', path: '/finance/overview', access: 'finance.read', tags, query: overviewQuery,
    summary: 'Open, paid and overdue amounts per patient and in total (filter by state and name; audited)',
    response: ok(overviewResult),
    handler: ({ services, query }) => overview(services, query),
  }),
  defineRoute({
    method: 'get', path: '/finance/settings', access: 'finance.settings', tags,
    summary: 'Stripe on or off, what is shared with Stripe, whether the secret files are installed, the webhook path',
    response: ok(settingsResult),
    handler: ({ services }) => getSettings(services),
  }),
  defineRoute({
    method: 'put', path: '/finance/settings', access: 'finance.settings', tags, body: settingsBody,
    summary: 'Switch Stripe on (needs both secret files) or off, and whether name and e-mail go to Stripe (audited)',
    response: ok(settingsResult),
    handler: ({ services, body }) => putSettings(services, body),
  }),
  // the finance report is a report of the reports page: GET /reports/finance and /reports/finance.csv
  ...reportRoutesFor('finance', 'finance.read', financeDefinition, ['reports', ...tags]),
];
