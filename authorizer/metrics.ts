import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Logger } from '../shared/log.js';

/**
 * The authorizer's Prometheus metrics, in a registry of its own (so that two authorizers in one
 * process, as in tests or `npm start`, never collide in the global one).
 */
export function createMetrics(options: { countActiveGrants: () => Promise<number>; log: Logger }) {
  const registry = new Registry();
  const decisions = new Counter({
    name: 'jitgate_authorizer_decisions_total',
    help: 'Access decisions, by resource, decision (allow or deny) and reason (the refusal code, or ok).',
    labelNames: ['resource', 'decision', 'reason'] as const,
    registers: [registry],
  });
  const requestDuration = new Histogram({
    name: 'jitgate_authorizer_request_duration_seconds',
    help: 'Time from request to response end, including the upstream, by resource.',
    labelNames: ['resource'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const upstreamErrors = new Counter({
    name: 'jitgate_upstream_errors_total',
    help: 'Upstream failures, by resource and kind (timeout or unreachable).',
    labelNames: ['resource', 'kind'] as const,
    registers: [registry],
  });
  const refusalRecords = new Counter({
    name: 'jitgate_authorizer_refusal_records_total',
    help:
      'What became of each refusal in Redis: counted (in the per-minute counts only: it names no grant), ' +
      'audited (an access.denied event about a real grant), over_limit (a real grant past its audited ' +
      'refusals per minute: counted only), lost (could not be written: Redis away or full for long).',
    labelNames: ['record'] as const,
    registers: [registry],
  });
  const openWebSockets = new Gauge({
    name: 'jitgate_authorizer_open_websockets',
    help: 'WebSocket connections this authorizer currently proxies.',
    registers: [registry],
  });
  const openPostgresSessions = new Gauge({
    name: 'jitgate_postgres_sessions',
    help: 'PostgreSQL sessions this authorizer currently relays.',
    registers: [registry],
  });
  new Gauge({
    name: 'jitgate_active_grants',
    help: 'Grants active now (all resources, read from Redis at scrape time).',
    registers: [registry],
    async collect() {
      try {
        this.set(await options.countActiveGrants());
      } catch (err) {
        // Redis down: keep the last value; readyz reports the outage.
        options.log.warn({ err }, 'could not count active grants for metrics');
      }
    },
  });
  return {
    registry,
    decisions,
    requestDuration,
    upstreamErrors,
    openWebSockets,
    openPostgresSessions,
    refusalRecords,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
