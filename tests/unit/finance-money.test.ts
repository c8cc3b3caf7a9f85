// Amounts never drift: 10,000 random quotes (seeded, reproducible) — totals from finance.money.ts
// equal an independent computation in BigInt (per line: net = q × unit, VAT = ⌊(net × bp + 5000) /
// 10000⌋, i.e. half-up to whole cents; sums of lines), including the extremes of every range.
// (The finance report's periods and CSV are the reports module's: tests/unit/reports-logic.test.ts,
// and the finance report's CSV end to end in tests/integration/finance.test.ts.)
import test from 'ava';
import { MAX_ITEMS, MAX_QUANTITY, MAX_UNIT_CENTS, VAT_CATEGORIES, basisPointsHalfUp, quoteTotals, type LineInput } from '../../app/api/src/modules/finance/finance.money.ts';

const BP: Record<string, bigint> = { medical_exempt: 0n, standard: 1900n, reduced: 700n };

function reference(lines: LineInput[]) {
  let net = 0n;
  let vat = 0n;
  const per = lines.map((l) => {
    const n = BigInt(l.quantity) * BigInt(l.unitCents);
    const v = (n * BP[l.vatCategory] + 5000n) / 10000n; // BigInt division truncates: non-negative → floor
    net += n;
    vat += v;
    return [n, v];
  });
  return { per, net, vat, total: net + vat };
}

/** mulberry32: a small seeded generator, so a failure is reproducible. */
function rng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('10,000 random quotes: totals equal an independent BigInt computation to the cent', (t) => {
  const r = rng(0x5eed1234);
  const pick = (max: number) => {
    const x = r();
    // extremes often: 0/1 and the maximum, else uniform or small
    if (x < 0.05) return max;
    if (x < 0.1) return 0;
    return x < 0.5 ? Math.floor(r() * 1000) : Math.floor(r() * (max + 1));
  };
  let checked = 0;
  for (let i = 0; i < 10_000; i++) {
    const n = 1 + Math.floor(r() * (r() < 0.02 ? MAX_ITEMS : 8));
    const lines: LineInput[] = Array.from({ length: n }, () => ({
      quantity: Math.max(1, pick(MAX_QUANTITY)),
      unitCents: pick(MAX_UNIT_CENTS),
      vatCategory: VAT_CATEGORIES[Math.floor(r() * 3)],
    }));
    const got = quoteTotals(lines);
    const want = reference(lines);
    got.lines.forEach((l, j) => {
      if (BigInt(l.netCents) !== want.per[j][0] || BigInt(l.vatCents) !== want.per[j][1]) t.fail(`quote ${i} line ${j}: ${JSON.stringify(lines[j])} → ${l.netCents}/${l.vatCents}, want ${want.per[j]}`);
    });
    if (BigInt(got.netCents) !== want.net || BigInt(got.vatCents) !== want.vat || BigInt(got.totalCents) !== want.total) t.fail(`quote ${i}: ${got.totalCents} ≠ ${want.total}`);
    t.true(Number.isSafeInteger(got.totalCents));
    checked++;
  }
  t.is(checked, 10_000);
});

test('half-up at the boundary: x.5 cents rounds up, x.4999 down; the largest quote stays exact', (t) => {
  t.is(basisPointsHalfUp(1250, 700), 88); // 87.5
  t.is(basisPointsHalfUp(1249, 700), 87); // 87.43
  t.is(basisPointsHalfUp(50, 1900), 10); // 9.5
  t.is(basisPointsHalfUp(9999, 1900), 1900); // 1899.81
  const max = quoteTotals(Array.from({ length: MAX_ITEMS }, () => ({ quantity: MAX_QUANTITY, unitCents: MAX_UNIT_CENTS, vatCategory: 'standard' as const })));
  t.is(BigInt(max.totalCents), reference(Array.from({ length: MAX_ITEMS }, () => ({ quantity: MAX_QUANTITY, unitCents: MAX_UNIT_CENTS, vatCategory: 'standard' as const }))).total);
  t.throws(() => basisPointsHalfUp(2 ** 53, 1900), { instanceOf: RangeError });
});
