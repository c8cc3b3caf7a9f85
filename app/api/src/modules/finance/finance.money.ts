// Money in integer cents. The rounding rule (docs/finance.md): per line, net = quantity × unit
// price; VAT = net × rate, rounded half-up to whole cents (rates are in basis points, 1900 = 19 %);
// the quote's net, VAT and total are the sums of its lines. Every intermediate value stays an
// exact integer below 2^53 (quantity ≤ 10,000, unit ≤ 1,000,000.00 €, ≤ 100 lines).
export const VAT_CATEGORIES = ['medical_exempt', 'standard', 'reduced'] as const;
export type VatCategory = (typeof VAT_CATEGORIES)[number];
/** Basis points per category: medical treatment is exempt under § 4 Nr. 14 UStG; 19 % and 7 % otherwise. */
export const VAT_RATE_BP: Record<VatCategory, number> = { medical_exempt: 0, standard: 1900, reduced: 700 };

export const MAX_QUANTITY = 10_000;
export const MAX_UNIT_CENTS = 100_000_000;
export const MAX_ITEMS = 100;
/** The largest single amount Stripe Checkout accepts (EUR 999,999.99). */
export const STRIPE_MAX_CENTS = 99_999_999;
export const CURRENCIES = ['EUR'] as const;

export interface LineInput { quantity: number; unitCents: number; vatCategory: VatCategory }
export interface LineAmounts { netCents: number; vatCents: number; totalCents: number; vatRateBp: number }

/** a × b / 10000, rounded half-up, for non-negative integers (exact: no floating division). */
export function basisPointsHalfUp(amount: number, rateBp: number): number {
  const scaled = amount * rateBp + 5000;
  if (!Number.isSafeInteger(scaled) || amount < 0 || rateBp < 0) throw new RangeError('amount out of range');
  return (scaled - (scaled % 10000)) / 10000;
}

export function lineAmounts(l: LineInput): LineAmounts {
  const netCents = l.quantity * l.unitCents;
  if (!Number.isSafeInteger(netCents)) throw new RangeError('line amount out of range');
  const vatRateBp = VAT_RATE_BP[l.vatCategory];
  const vatCents = basisPointsHalfUp(netCents, vatRateBp);
  return { netCents, vatCents, totalCents: netCents + vatCents, vatRateBp };
}

export function quoteTotals(lines: LineInput[]): { lines: LineAmounts[]; netCents: number; vatCents: number; totalCents: number } {
  const out = lines.map(lineAmounts);
  const netCents = out.reduce((s, l) => s + l.netCents, 0);
  const vatCents = out.reduce((s, l) => s + l.vatCents, 0);
  return { lines: out, netCents, vatCents, totalCents: netCents + vatCents };
}

/** The VAT per rate (for the quote and the receipt: "enthaltene USt. 19 %: …"). */
export function vatByRate(lines: (LineInput & LineAmounts)[]): { vatRateBp: number; netCents: number; vatCents: number }[] {
  const m = new Map<number, { vatRateBp: number; netCents: number; vatCents: number }>();
  for (const l of lines) {
    const e = m.get(l.vatRateBp) ?? { vatRateBp: l.vatRateBp, netCents: 0, vatCents: 0 };
    e.netCents += l.netCents;
    e.vatCents += l.vatCents;
    m.set(l.vatRateBp, e);
  }
  return [...m.values()].sort((a, b) => a.vatRateBp - b.vatRateBp);
}

/** 8 characters of Crockford-like base32 (no personal data, no order): KV-…, AZ-…, QT-…. */
export function newReference(prefix: 'KV' | 'AZ' | 'QT', bytes: Uint8Array = crypto.getRandomValues(new Uint8Array(8))): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  return `${prefix}-${[...bytes].map((b) => alphabet[b & 31]).join('')}`;
}
