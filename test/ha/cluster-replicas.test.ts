import { randomUUID } from 'node:crypto';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../shared/clock.js';
import { AccessStore } from '../../shared/grants/store.js';
import { grantIdOf, type SlackUserId } from '../../shared/ids.js';
import { connectRedis, type RedisClient } from '../../shared/redis/connect.js';
import { redisKeys } from '../../shared/redis/keys.js';
import { waitReady } from '../support/redis.js';
import { newRequestInput } from '../support/requests.js';
import { type RedisCluster, startRedisCluster } from './servers.js';

/**
 * A Redis Cluster whose masters each have a replica (3 + 3 on loopback): a slot's master can fail
 * over to its replica, so a revocation waits (WAIT on that master's connection) until the replica
 * has it, as under Sentinel. The 3-master cluster without replicas the suites run on has nothing to
 * wait for (test/integration/lua-scripts.test.ts answers `replicated: true` there).
 */
const BOSS = 'U0BOSS' as SlackUserId;

let cluster: RedisCluster;
let redis: RedisClient;
let store: AccessStore;
const prefix = `t-${randomUUID().slice(0, 8)}`;
const keys = redisKeys(prefix);

beforeAll(async () => {
  cluster = await startRedisCluster(3, 1);
  redis = connectRedis({ kind: 'cluster', nodes: cluster.nodes, url: 'redis://127.0.0.1:6379' });
  redis.on('error', () => {});
  await waitReady(redis);
  store = new AccessStore(redis, { prefix, clock: systemClock });
  // The client knows the deployment's slot has a replica (its slot map is refreshed every few seconds).
  const slot = Number(await redis.call('CLUSTER', 'KEYSLOT', keys.prefix));
  for (let i = 0; (redis as Cluster).slots[slot]?.length !== 2; i++) {
    if (i > 200) throw new Error('the client never saw the replica of the deployment’s slot');
    await new Promise((r) => setTimeout(r, 100));
  }
}, 60_000);
afterAll(async () => {
  redis?.disconnect();
  await cluster?.close();
});

/** A grant, filed and approved through the store. */
async function grant() {
  const request = newRequestInput();
  await store.transitions.createRequest(request);
  const { decision } = await store.transitions.approve(request.id, BOSS);
  expect(decision.outcome).toBe('granted');
  return { requestId: request.id, grantId: grantIdOf(request.id) };
}

/** The port of the replica that serves the deployment's slot. */
async function replicaPort(): Promise<number> {
  const node = connectRedis(`redis://127.0.0.1:${cluster.nodes[0]!.port}`);
  try {
    await waitReady(node);
    const slot = Number(await node.call('CLUSTER', 'KEYSLOT', keys.prefix));
    const ranges = (await node.call('CLUSTER', 'SLOTS')) as [number, number, ...[string, number][]][];
    const range = ranges.find(([from, to]) => slot >= from && slot <= to)!;
    return range[3]![1];
  } finally {
    node.disconnect();
  }
}

describe('a revocation on a Redis Cluster with replicas', () => {
  it('when the slot’s replica is in step, then the revocation is reported only once the replica holds it', async () => {
    const g = await grant();
    const revoked = await store.transitions.revoke(g.grantId, BOSS, 'done');
    expect(revoked).toMatchObject({ outcome: 'revoked', replicated: true });
    // Read on the replica itself, at once: it already has it.
    const replica = connectRedis(`redis://127.0.0.1:${await replicaPort()}`);
    try {
      await waitReady(replica);
      await replica.call('READONLY');
      expect(await replica.hget(keys.request(g.requestId), 'grantStatus')).toBe('revoked');
    } finally {
      replica.disconnect();
    }
  });

  it('when the slot’s replica does not answer, then the revocation is in effect but answers not replicated; once it is back, revoking again is confirmed', async () => {
    const g = await grant();
    const replica = cluster.servers.get(await replicaPort())!;
    replica.freeze();
    try {
      const revoked = await store.transitions.revoke(g.grantId, BOSS, 'done');
      expect(revoked).toMatchObject({ outcome: 'revoked', replicated: false });
      expect((await store.queries.liveGrant(g.grantId))?.status).toBe('revoked');
    } finally {
      replica.thaw();
    }
    await expect
      .poll(async () => (await store.transitions.revoke(g.grantId, BOSS, 'again')).replicated, {
        timeout: 15_000,
      })
      .toBe(true);
  });
});
