// Metrics of the audit anchor writer (docs/monitoring.md): labels are organization ids only.
import { Gauge, type Registry } from 'prom-client';
import { rootLogger } from '../../core/logger.ts';

export interface AnchorMetrics {
  chainLength: Gauge<'organization_id'>;
  mismatch: Gauge<'organization_id'>;
  written: Gauge;
}

export function anchorMetrics(registry: Registry): AnchorMetrics {
  const existing = registry.getSingleMetric('praxiskern_audit_chain_length') as Gauge<'organization_id'> | undefined;
  if (existing) {
    return {
      chainLength: existing,
      mismatch: registry.getSingleMetric('praxiskern_audit_anchor_mismatch') as Gauge<'organization_id'>,
      written: registry.getSingleMetric('praxiskern_audit_anchor_written_timestamp_seconds') as Gauge,
    };
  }
  return {
    chainLength: new Gauge({ name: 'praxiskern_audit_chain_length', help: 'Entries in each audit hash chain (organization id; "system" for installation events)', labelNames: ['organization_id'], registers: [registry] }),
    mismatch: new Gauge({ name: 'praxiskern_audit_anchor_mismatch', help: '1 when a chain no longer contains the entry its anchor recorded (tail deleted or rewritten)', labelNames: ['organization_id'], registers: [registry] }),
    written: new Gauge({ name: 'praxiskern_audit_anchor_written_timestamp_seconds', help: 'When the audit anchor file was last confirmed against the database', registers: [registry] }),
  };
}

/**
 * What waits for the audit sequencer, read from PostgreSQL at every scrape (not from the sequencer
 * itself): a stopped sequencer, here or in another process, still shows as a growing lag.
 */
export function waitingMetrics(registry: Registry, read: () => Promise<{ waiting: number; oldestSeconds: number }>): void {
  if (registry.getSingleMetric('praxiskern_audit_waiting_entries')) return;
  let last: Promise<{ waiting: number; oldestSeconds: number } | undefined> | undefined;
  // Both gauges come from one query per scrape.
  const status = () => (last ??= read().catch((err) => {
    rootLogger.warn({ err: (err as Error).message }, 'reading the audit sequencer lag failed');
    return undefined;
  }).finally(() => setImmediate(() => (last = undefined))));
  new Gauge({
    name: 'praxiskern_audit_waiting_entries', help: 'Committed audit entries not yet linked into their hash chain by the sequencer', registers: [registry],
    async collect() {
      const s = await status();
      if (s) this.set(s.waiting);
    },
  });
  new Gauge({
    name: 'praxiskern_audit_sequencer_lag_seconds', help: 'Age of the oldest audit entry still waiting for the sequencer (0 when none waits)', registers: [registry],
    async collect() {
      const s = await status();
      if (s) this.set(s.oldestSeconds);
    },
  });
}
