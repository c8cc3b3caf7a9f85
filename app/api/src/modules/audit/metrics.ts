// Metrics of the audit anchor writer (docs/monitoring.md): labels are organization ids only.
import { Gauge, type Registry } from 'prom-client';

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
