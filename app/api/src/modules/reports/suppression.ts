// Small-count suppression (docs/reports.md "Small counts"). A cell that counts patients (or their
// appointments, messages, conversations) with 0 < n < minCount is null and listed as suppressed.
// So that differencing cannot reveal it:
// - in a group of cells that add up to a total, the total is suppressed too, and when only one
//   member of the group is suppressed, the smallest other member (preferring a non-zero one) is
//   suppressed as well: whoever knows the total from elsewhere learns the sum of two unknowns;
// - a value computed from suppressed cells (a rate, a median) is suppressed with them.
/** 'cents': a money sum in integer cents (EUR), never suppressed. */
export type SeriesKind = 'count' | 'percent' | 'minutes' | 'cents';

export interface SeriesRule {
  key: string;
  kind: SeriesKind;
  /** Cells of a group sum to the group's total (the series with total: true). */
  group?: string;
  total?: boolean;
  /** Suppressed when any of these is suppressed (or, for counts, when the first is below minCount). */
  dependsOn?: string[];
}

export interface RawRow { period: string; values: Record<string, number> }
export interface ShownRow { period: string; values: Record<string, number | null>; suppressed: string[] }

export function suppressRow(rules: SeriesRule[], row: RawRow, minCount: number): ShownRow {
  const hidden = new Set<string>();
  const v = (k: string) => row.values[k] ?? 0;
  const n = (k: string) => (Number.isNaN(v(k)) ? 0 : v(k));
  for (const r of rules) if (r.kind === 'count' && v(r.key) > 0 && v(r.key) < minCount) hidden.add(r.key);
  const groups = new Set(rules.filter((r) => r.group).map((r) => r.group!));
  for (const g of groups) {
    const members = rules.filter((r) => r.group === g && !r.total);
    const totals = rules.filter((r) => r.group === g && r.total);
    const hiddenMembers = members.filter((m) => hidden.has(m.key));
    if (!hiddenMembers.length) continue;
    for (const t of totals) hidden.add(t.key);
    if (hiddenMembers.length === 1) {
      const rest = members.filter((m) => !hidden.has(m.key)).sort((a, b) => (n(a.key) === 0 ? 1 : 0) - (n(b.key) === 0 ? 1 : 0) || n(a.key) - n(b.key));
      if (rest.length) hidden.add(rest[0].key);
    }
  }
  // dependencies can chain (a rate on a total): repeat until nothing changes
  for (let changed = true; changed;) {
    changed = false;
    for (const r of rules) {
      if (hidden.has(r.key) || !r.dependsOn) continue;
      if (r.dependsOn.some((d) => hidden.has(d))) { hidden.add(r.key); changed = true; }
    }
  }
  const values: Record<string, number | null> = {};
  // NaN: nothing to measure (a median without answers) — null, but not listed as suppressed
  for (const r of rules) values[r.key] = hidden.has(r.key) || Number.isNaN(v(r.key)) ? null : v(r.key);
  return { period: row.period, values, suppressed: rules.filter((r) => hidden.has(r.key)).map((r) => r.key) };
}
