// Small helpers for benchmarks: percentiles and a fixed-concurrency HTTP load loop on loopback.
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p95: number;
}

/** Runs `fn` `total` times with `concurrency` workers; latencies in ms. */
export async function load(total: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        await fn(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { requests: total, seconds, rps: total / seconds, p50: percentile(latencies, 50), p95: percentile(latencies, 95) };
}

export const fmt = (n: number, digits = 2) => n.toFixed(digits);

/**
 * Settings that make the test app behave as in production for a measurement: the test suite's
 * check of every answer against its schema (PRAXISKERN_CHECK_RESPONSES) is off, as it is in the bundle.
 */
export const PRODUCTION_LIKE: Record<string, string> = { PRAXISKERN_CHECK_RESPONSES: 'false' };
