import { saveMessageRef } from '../../bot/slack/message-refs.js';
import { effectsOf } from '../../shared/access/effects.js';
import { AccessService } from '../../shared/access/service.js';
import { systemClock } from '../../shared/clock.js';
import { AccessStore } from '../../shared/grants/store.js';
import type { GrantId, RequestId, SlackUserId } from '../../shared/ids.js';
import { JobScheduler } from '../../shared/jobs/scheduler.js';
import { connectRedisForQueue } from '../../shared/redis/connect.js';
import { redisKeys } from '../../shared/redis/keys.js';
import type { BenchContext } from '../context.js';
import { BENCH_ISSUER, benchPolicy } from '../policy.js';
import { deletePrefix, memoryUsage, usedMemory } from '../redis-stats.js';

export interface MemoryResult {
  grants: number;
  /** used_memory growth divided by the grants minted. */
  usedMemoryPerGrant: number;
  /** The sum of MEMORY USAGE over every key the grants created, per grant. */
  keysPerGrant: number;
  /** The same, by kind of key (bytes per grant). */
  byKind: Record<string, number>;
  /** MEMORY USAGE of one live grant hash (what the authorizer reads). */
  liveGrantBytes: number;
}

const BOSS = 'U0BOSS' as SlackUserId;

/**
 * Redis memory per grant, for grants made the real way: AccessService.request, the approval
 * message's ref saved, approve (mint, jobs, redeem code), redeemed, first use recorded. Every key
 * under a prefix of its own is then weighed with MEMORY USAGE and grouped by kind.
 */
export async function memoryPerGrant(ctx: BenchContext): Promise<MemoryResult> {
  const prefix = `${ctx.prefix}-mem`;
  const keys = redisKeys(prefix);
  const queueRedis = connectRedisForQueue(ctx.redisUrl);
  const store = new AccessStore(ctx.redis, { prefix, clock: systemClock });
  const scheduler = new JobScheduler(queueRedis, keys.queuePrefix, systemClock);
  const policy = benchPolicy(ctx.upstream.info.url);
  const access = new AccessService({
    store,
    scheduler,
    policy: () => policy,
    usergroups: async () => [],
    clock: systemClock,
    publicUrl: BENCH_ISSUER,
  });
  const grants = ctx.quick ? 300 : 2_000;
  try {
    await scheduler.queue.waitUntilReady();
    const before = await usedMemory(ctx.redis);
    let next = 0;
    const worker = async () => {
      while (next < grants) {
        const i = next++;
        const user = `U0MEM${i}` as SlackUserId;
        const filed = await access.request({
          user,
          email: `mem.user${i}@example.com`,
          resource: 'app',
          durationMs: 3_600_000,
          reason: 'INC-1234 checking the dashboards after the deploy',
        });
        const requestId = filed.request.id as RequestId;
        await saveMessageRef(store.redis, store.keys, requestId, {
          channel: 'C0APPROVALS',
          ts: `1700000000.${String(i).padStart(6, '0')}`,
        });
        const approved = await access.approve(requestId, BOSS);
        const code = new URL(effectsOf(approved.effects, 'send-redeem-link')[0]!.redeemUrl!).searchParams.get(
          'code',
        )!;
        const grantId = (await store.codes.redeem(code)) as GrantId;
        await store.transitions.recordUse(grantId, 1);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    const after = await usedMemory(ctx.redis);

    const byKind: Record<string, number> = {};
    let total = 0;
    let cursor = '0';
    do {
      const [nextCursor, found] = await ctx.redis.scan(
        cursor,
        'MATCH',
        redisKeys(prefix).everyKey,
        'COUNT',
        2000,
      );
      cursor = nextCursor;
      const sizes = await Promise.all(found.map((k) => memoryUsage(ctx.redis, k)));
      found.forEach((k, i) => {
        const kind = kindOf(k, keys.prefix);
        byKind[kind] = (byKind[kind] ?? 0) + sizes[i]!;
        total += sizes[i]!;
      });
    } while (cursor !== '0');
    for (const k of Object.keys(byKind)) byKind[k] = byKind[k]! / grants;
    const sample = (await ctx.redis.scan('0', 'MATCH', keys.grant('*'), 'COUNT', 1000))[1][0];
    const result: MemoryResult = {
      grants,
      usedMemoryPerGrant: (after - before) / grants,
      keysPerGrant: total / grants,
      byKind,
      liveGrantBytes: sample ? await memoryUsage(ctx.redis, sample) : 0,
    };
    ctx.log(
      `memory per real grant (${grants}): used_memory ${result.usedMemoryPerGrant.toFixed(0)} B, keys ${result.keysPerGrant.toFixed(0)} B, live hash ${result.liveGrantBytes} B; ${JSON.stringify(Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, Math.round(v)])))}`,
    );
    return result;
  } finally {
    await scheduler.close().catch(() => {});
    await queueRedis.quit().catch(() => queueRedis.disconnect());
    await deletePrefix(ctx.redis, prefix);
  }
}

/** Groups a key by what it holds, for the per-grant breakdown. */
function kindOf(key: string, p: string): string {
  const rest = key.slice(p.length + 1);
  if (rest.startsWith('grant:')) return 'live grant hash';
  if (rest.startsWith('req:') && rest.endsWith(':approvals')) return 'request approvals set';
  if (rest.startsWith('req:')) return 'request record';
  if (rest.startsWith('code:')) return 'redeem code (used marker, 10 min)';
  if (rest.startsWith('audit')) return 'audit stream';
  if (rest === 'active' || rest.startsWith('user:') || rest === 'pending') return 'indexes (sorted sets)';
  if (rest.startsWith('q:')) {
    // BullMQ: one hash per job, plus the queue's shared sorted sets and event stream.
    return /^q:[^:]+:(grant|request|notify)-/.test(rest) ? 'BullMQ job hashes' : 'BullMQ queue structures';
  }
  return 'other';
}
