import { setTimeout as sleep } from 'node:timers/promises';
import { redisKeys } from '../../shared/redis/keys.js';
import type { BenchContext } from '../context.js';
import { median, medianFigures } from '../context.js';
import { benchGrantId, removeGrants, tokensFor, writeGrants } from '../grants.js';
import type { LoadResult } from '../load.js';
import { memoryUsage, usedMemory } from '../redis-stats.js';
import { FIRST_FILLER, HOT_GRANTS, targetCpu } from './proxy-cost.js';

export const SIZES = [10, 10_000, 100_000] as const;

export interface ScaleResult {
  sizes: {
    activeGrants: number;
    rps: number;
    p50Us: number;
    p99Us: number;
    /** The authorizer's CPU per request (µs): the same work whatever the number of grants. */
    cpuUsPerRequest: number;
    rounds: LoadResult[];
  }[];
  /** Median over rounds of rps(100,000) / rps(10). */
  largestOverSmallestRps: number;
  largestOverSmallestP99: number;
  largestOverSmallestCpu: number;
  memory: {
    /** used_memory growth per grant while going from 10,000 to 100,000 grants. */
    usedMemoryPerGrant: number;
    /** MEMORY USAGE of sample live grant hashes. */
    grantHashBytes: number[];
    /** MEMORY USAGE of the `active` index per entry at 100,000. */
    activeIndexBytesPerGrant: number;
  };
}

/**
 * Scenario 3: jitgate's figures with 10, 10,000 and 100,000 active grants in Redis. The load uses
 * the 10 hot grants' tokens; the others are written as the store writes a minted grant. Sizes are
 * visited in alternating order on successive rounds so that a drift does not read as a trend.
 */
export async function scale(ctx: BenchContext): Promise<ScaleResult> {
  const expiresAt = Date.now() + 3_600_000;
  const hot = await tokensFor(ctx.keys, HOT_GRANTS, expiresAt);
  const url = `${ctx.target.info.jitgateUrl}/app/`;
  const keys = redisKeys(ctx.prefix);
  let fillers = 0;
  const resize = async (active: number) => {
    const want = active - HOT_GRANTS.length;
    if (want > fillers)
      await writeGrants(ctx.redis, ctx.prefix, FIRST_FILLER + fillers, FIRST_FILLER + want, expiresAt);
    if (want < fillers)
      await removeGrants(ctx.redis, ctx.prefix, FIRST_FILLER + want, FIRST_FILLER + fillers);
    fillers = want;
  };

  // Memory per grant: the growth from 10,000 to 100,000 grants.
  await resize(10_000);
  const memBefore = await usedMemory(ctx.redis);
  await resize(100_000);
  const memAfter = await usedMemory(ctx.redis);
  const usedMemoryPerGrant = (memAfter - memBefore) / 90_000;
  const samples = [FIRST_FILLER, FIRST_FILLER + 4_999, FIRST_FILLER + 49_999, FIRST_FILLER + 99_000];
  const grantHashBytes = await Promise.all(
    samples.map((i) => memoryUsage(ctx.redis, keys.grant(benchGrantId(i)))),
  );
  const activeIndexBytesPerGrant =
    (await memoryUsage(ctx.redis, keys.activeGrants)) / (await ctx.redis.zcard(keys.activeGrants));
  ctx.log(
    `memory: used_memory +${usedMemoryPerGrant.toFixed(0)} B/grant; grant hash ${grantHashBytes.join('/')} B; active index ${activeIndexBytesPerGrant.toFixed(0)} B/grant`,
  );

  const runs = new Map<number, LoadResult[]>(SIZES.map((s) => [s, []]));
  const cpu = new Map<number, number[]>(SIZES.map((s) => [s, []]));
  for (let round = 1; round <= ctx.timing.rounds; round++) {
    const order = round % 2 === 1 ? [...SIZES] : [...SIZES].reverse();
    for (const size of order) {
      await resize(size);
      // Let Redis finish what the writes started (incremental rehashing of the keyspace).
      await sleep(1_000);
      const before = await targetCpu(ctx);
      const r = await ctx.load({ url, tokens: hot, tokenIn: 'bearer' });
      const cpuUs = ((await targetCpu(ctx)) - before) / (r.requests + r.warmupRequests);
      runs.get(size)!.push(r);
      cpu.get(size)!.push(cpuUs);
      ctx.log(
        `round ${round} ${String(size).padStart(7)} grants ${r.rps.toFixed(0).padStart(6)} req/s  p99 ${(r.latencyUs.p99 / 1000).toFixed(2)} ms  cpu ${cpuUs.toFixed(0)} µs/req  others ${r.foreignCores?.toFixed(2)} cores  ${JSON.stringify(r.statuses)}`,
      );
    }
  }
  await resize(HOT_GRANTS.length);

  const small = runs.get(SIZES[0])!;
  const large = runs.get(SIZES[2])!;
  return {
    sizes: SIZES.map((s) => {
      const rs = runs.get(s)!;
      return { activeGrants: s, ...medianFigures(rs, cpu.get(s)!) };
    }),
    largestOverSmallestRps: median(large.map((r, i) => r.rps / small[i]!.rps)),
    largestOverSmallestP99: median(large.map((r, i) => r.latencyUs.p99 / small[i]!.latencyUs.p99)),
    largestOverSmallestCpu: median(cpu.get(SIZES[2])!.map((c, i) => c / cpu.get(SIZES[0])![i]!)),
    memory: { usedMemoryPerGrant, grantHashBytes, activeIndexBytesPerGrant },
  };
}
