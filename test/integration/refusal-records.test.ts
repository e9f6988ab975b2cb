import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../authorizer/metrics.js';
import { createRefusalRecorder } from '../../authorizer/refusal-records.js';
import { readRefusalCounts } from '../../shared/audit/refusal-counts.js';
import { systemClock } from '../../shared/clock.js';
import { AccessStore } from '../../shared/grants/store.js';
import { createLogger } from '../../shared/log.js';
import { connectRedis } from '../../shared/redis/connect.js';
import { type TestRedis, testRedis, waitReady } from '../support/redis.js';
import { startRedisServer } from '../support/redis-server.js';

const log = createLogger('refusal-records-test', 'silent');

async function recordsOf(metrics: ReturnType<typeof createMetrics>): Promise<Record<string, number>> {
  const metric = await metrics.registry.getSingleMetric('jitgate_authorizer_refusal_records_total')?.get();
  return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels.record), v.value]));
}

describe('the refusal recorder', () => {
  let t: TestRedis;
  beforeEach(async () => {
    t = await testRedis();
  });
  afterEach(() => t.cleanup());

  it('when refusals come in, then they are counted per minute, resource and code and written in one flush', async () => {
    const store = new AccessStore(t.redis, { prefix: t.prefix, clock: systemClock });
    const metrics = createMetrics({ countActiveGrants: async () => 0, log });
    const since = Date.now();
    const r = createRefusalRecorder({
      redis: t.redis,
      keys: t.keys,
      store,
      clock: systemClock,
      log,
      metrics,
      flushEveryMs: 60_000,
    });
    for (let i = 0; i < 500; i++)
      r.refused({ resource: 'grafana', reason: 'token_missing', grantId: undefined });
    for (let i = 0; i < 7; i++)
      r.refused({ resource: undefined, reason: 'no_such_resource', grantId: undefined });
    expect(await readRefusalCounts(t.redis, t.keys, since, Date.now())).toEqual([]);
    await r.stop();
    const counts = await readRefusalCounts(t.redis, t.keys, since, Date.now());
    const total = (reason: string) =>
      counts.filter((c) => c.reason === reason).reduce((n, c) => n + c.count, 0);
    expect(total('token_missing')).toBe(500);
    expect(total('no_such_resource')).toBe(7);
    expect(counts.find((c) => c.reason === 'no_such_resource')?.resource).toBe('');
    expect(await recordsOf(metrics)).toEqual({ counted: 507 });
    expect(await t.redis.xlen(t.keys.auditStream)).toBe(0);
  });

  it('when Redis cannot take the counts, then they wait in memory (within their bound) and are written once it can', async () => {
    const server = await startRedisServer();
    const redis = connectRedis(server.url);
    redis.on('error', () => {});
    await waitReady(redis);
    try {
      const store = new AccessStore(redis, { prefix: t.prefix, clock: systemClock });
      const metrics = createMetrics({ countActiveGrants: async () => 0, log });
      const since = Date.now();
      const r = createRefusalRecorder({
        redis,
        keys: t.keys,
        store,
        clock: systemClock,
        log,
        metrics,
        flushEveryMs: 60_000,
        maxPendingCells: 2,
      });
      await server.stop({ keepData: true });
      for (let i = 0; i < 30; i++)
        r.refused({ resource: 'grafana', reason: 'token_missing', grantId: undefined });
      r.refused({ resource: 'grafana', reason: 'token_invalid', grantId: undefined });
      // A third cell is past the bound: dropped, and said so.
      r.refused({ resource: 'grafana', reason: 'token_expired', grantId: undefined });
      await r.flush();
      expect((await recordsOf(metrics)).lost).toBe(1);
      await server.start();
      await expect.poll(() => redis.status, { timeout: 10_000 }).toBe('ready');
      await r.stop();
      const counts = await readRefusalCounts(redis, t.keys, since, Date.now());
      expect(counts.map((c) => [c.reason, c.count]).sort()).toEqual([
        ['token_invalid', 1],
        ['token_missing', 30],
      ]);
    } finally {
      redis.disconnect();
      await server.close();
    }
  });

  it('when a real grant is refused again and again, then the first 10 a minute are audited and the rest only counted, without a round trip each', async () => {
    const store = new AccessStore(t.redis, { prefix: t.prefix, clock: systemClock });
    const metrics = createMetrics({ countActiveGrants: async () => 0, log });
    const r = createRefusalRecorder({
      redis: t.redis,
      keys: t.keys,
      store,
      clock: systemClock,
      log,
      metrics,
      flushEveryMs: 60_000,
    });
    const event = () => ({
      type: 'access.denied',
      actor: 'U0ALICE',
      grantId: 'g_x',
      reason: 'grant_revoked',
      path: `/${'p'.repeat(5_000)}`,
    });
    for (let i = 0; i < 15; i++)
      r.refused({ resource: 'grafana', reason: 'grant_revoked', grantId: 'g_x', event });
    await expect.poll(async () => (await recordsOf(metrics)).over_limit ?? 0).toBe(5);
    // Known spent: later ones are not even sent to Redis.
    const before = Number(await t.redis.get(t.keys.grantRefusalsAudited('g_x')));
    for (let i = 0; i < 50; i++)
      r.refused({ resource: 'grafana', reason: 'grant_revoked', grantId: 'g_x', event });
    expect((await recordsOf(metrics)).over_limit).toBe(55);
    expect(Number(await t.redis.get(t.keys.grantRefusalsAudited('g_x')))).toBe(before);
    expect(await t.redis.xlen(t.keys.auditStream)).toBe(10);
    expect(await t.redis.pttl(t.keys.grantRefusalsAudited('g_x'))).toBeGreaterThan(0);
    await r.stop();
  });
});
