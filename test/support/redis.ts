import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { connectRedis, type RedisClient } from '../../shared/redis/connect.js';
import { type RedisKeys, redisKeys } from '../../shared/redis/keys.js';
import { parseHostPorts, type RedisTarget } from '../../shared/redis/target.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * The Redis the suites run on: the one at REDIS_URL, or the Redis Cluster that `npm run test:ha`
 * starts and names in REDIS_CLUSTER_NODES (child processes inherit it, so they use it too).
 */
export const REDIS_TARGET: RedisTarget = clusterTarget() ?? { kind: 'single', url: REDIS_URL };

/** True when the suites run on a Redis Cluster. */
export const ON_CLUSTER = REDIS_TARGET.kind === 'cluster';

function clusterTarget(): RedisTarget | undefined {
  const list = process.env.REDIS_CLUSTER_NODES;
  if (!list) return undefined;
  const read = parseHostPorts(list);
  if ('problem' in read) throw new Error(`REDIS_CLUSTER_NODES ${read.problem}`);
  return { kind: 'cluster', nodes: read.nodes, url: REDIS_URL };
}

export interface TestRedis {
  redis: RedisClient;
  prefix: string;
  keys: RedisKeys;
  /** Deletes every key under this test's prefix and closes the connection. */
  cleanup(): Promise<void>;
}

/** A Redis connection and a key prefix of this test's own. */
export async function testRedis(): Promise<TestRedis> {
  const prefix = `t-${randomUUID().slice(0, 8)}`;
  const redis = connectRedis(REDIS_TARGET);
  await waitReady(redis);
  const keys = redisKeys(prefix);
  return {
    redis,
    prefix,
    keys,
    async cleanup() {
      await deletePrefix(redis, prefix);
      redis.disconnect();
    },
  };
}

export async function waitReady(redis: RedisClient): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', () => resolve());
    redis.once('end', () => reject(new Error('Redis connection ended before it was ready')));
  });
}

export async function deletePrefix(redis: RedisClient, prefix: string): Promise<void> {
  // On a cluster the prefix's hash tag puts every key on one master; SCAN looks at one node.
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  await Promise.all(nodes.map((node) => deleteOnNode(node, prefix)));
}

async function deleteOnNode(redis: RedisClient, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', redisKeys(prefix).everyKey, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) await redis.unlink(...found);
  } while (cursor !== '0');
}

/**
 * The URL of the one server that holds `key` (for MONITOR, which sees one server's commands): the
 * single Redis, or on a cluster the master that owns the key's slot.
 */
export async function serverUrlFor(key: string): Promise<string> {
  if (REDIS_TARGET.kind !== 'cluster') return REDIS_URL;
  const seed = REDIS_TARGET.nodes[0]!;
  const redis = connectRedis(`redis://${seed.host}:${seed.port}`);
  try {
    await waitReady(redis);
    const slot = Number(await redis.call('CLUSTER', 'KEYSLOT', key));
    const ranges = (await redis.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const owner = ranges.find(([from, to]) => slot >= from && slot <= to);
    if (!owner) throw new Error(`no cluster node owns slot ${slot}`);
    return `redis://${owner[2][0]}:${owner[2][1]}`;
  } finally {
    redis.disconnect();
  }
}

/** KEYS on every master (on a cluster KEYS looks at one node), sorted. */
export async function keysMatching(redis: RedisClient, pattern: string): Promise<string[]> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  return (await Promise.all(nodes.map((node) => node.keys(pattern)))).flat().sort();
}
