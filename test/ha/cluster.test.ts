import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redeemLinkFor, requestIdFor, type Stack, startStack } from '../faults/stack.js';
import { botSettled } from '../support/jobs.js';
import { keysMatching, ON_CLUSTER, REDIS_TARGET, waitReady } from '../support/redis.js';

/**
 * What the rest of this matrix relies on: the suites really run on a 3-master Redis Cluster, and
 * one deployment (its store, its audit chain and BullMQ's queue) lives in one hash slot, so that
 * every multi-key script and MULTI stays legal there.
 */
let stack: Stack;

beforeAll(async () => {
  if (!ON_CLUSTER) throw new Error('run through `npm run test:ha`, which starts the cluster');
  stack = await startStack(REDIS_TARGET);
  // The cluster client's node connections are made once it has read the slots.
  await waitReady(stack.redis);
});
afterAll(async () => stack?.close());

const cluster = () => stack.redis as Cluster;

describe('jitgate on a Redis Cluster', () => {
  it('when the matrix runs, then the suites are on a cluster of 3 masters with every slot served', async () => {
    expect(stack.redis).toBeInstanceOf(Cluster);
    expect(cluster().nodes('master')).toHaveLength(3);
    const info = String(await cluster().nodes('master')[0]!.call('CLUSTER', 'INFO'));
    expect(info).toContain('cluster_state:ok');
    expect(info).toContain('cluster_slots_assigned:16384');
    // Keys of other deployments spread over the masters: the cluster is not one node in disguise.
    const slots = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((p) => keySlot(`{${p}}:x`)));
    expect(new Set(slots).size).toBeGreaterThan(1);
  });

  it('when a grant goes through the bot, the worker and the authorizer, then every key of the deployment, BullMQ’s too, is in one slot on one master', async () => {
    const bot = await stack.startBot({ worker: true });
    const authorizer = await stack.startAuthorizer();
    await bot.command('U0BOB', 'app 3s INC-1 on the cluster');
    await bot.click('U0ALICE', 'jit_approve', await requestIdFor(stack, 'INC-1 on the cluster'));
    const token = await stack.redeem(authorizer.url, await redeemLinkFor(stack, 'U0BOB'));
    const res = await fetch(`${authorizer.url}/app/x`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    await botSettled(bot.bot, bot.deps.scheduler.queue);

    const keys = await keysMatching(stack.redis, stack.keys.everyKey);
    expect(keys.some((k) => k.startsWith(`${stack.keys.queuePrefix}:`))).toBe(true);
    expect(keys).toContain(stack.keys.auditStream);
    expect(keys.length).toBeGreaterThan(10);
    const slots = new Set(await Promise.all(keys.map(keySlot)));
    expect([...slots]).toEqual([await keySlot(stack.keys.prefix)]);
    const holding = await Promise.all(
      cluster()
        .nodes('master')
        .map(async (node) => (await node.keys(stack.keys.everyKey)).length),
    );
    expect(holding.filter((n) => n > 0)).toHaveLength(1);
  });

  it('when a script names keys of two deployments, then the cluster refuses it (what the hash tag prevents)', async () => {
    const [a, b] = await Promise.all([keySlot('{a}:x'), keySlot('{b}:x')]);
    expect(a).not.toBe(b);
    await expect(cluster().eval('return 1', 2, '{a}:x', '{b}:x')).rejects.toThrow(/CROSSSLOT/);
  });
});

async function keySlot(key: string): Promise<number> {
  return Number(await cluster().nodes('master')[0]!.call('CLUSTER', 'KEYSLOT', key));
}
