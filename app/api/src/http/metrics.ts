// Prometheus metrics, served on a separate port (METRICS_PORT) that the proxy never exposes.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  logins: Counter<'method' | 'outcome'>;
  sealed: Gauge;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'praxiskern_' });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'praxiskern_http_request_duration_seconds',
      help: 'HTTP request duration by route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    logins: new Counter({
      name: 'praxiskern_logins_total',
      help: 'Login attempts by method and outcome',
      labelNames: ['method', 'outcome'],
      registers: [registry],
    }),
    sealed: new Gauge({ name: 'praxiskern_sealed', help: '1 while the server is sealed, 0 when unsealed', registers: [registry] }),
  };
}
