import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { type RedisTarget, urlCredentials } from './target.js';

/** A connection to one Redis, to a Redis Cluster, or to the master Sentinel names: jitgate uses each alike. */
export type RedisClient = Redis | Cluster;

/**
 * How many replicas must confirm a change that must survive a failover (a revocation), and how long
 * to wait for them (`WAIT replicas timeoutMs`).
 */
export interface ReplicaAcks {
  replicas: number;
  timeoutMs: number;
}

/** Options for a connection: the single server's or Sentinel's, or, on a cluster, each node's. */
export type ConnectOptions = RedisOptions & {
  cluster?: ClusterOptions;
  /**
   * Sentinel's master, or a cluster slot's, has replicas: by default a revocation waits for one of
   * them for 1 s. `false`: never wait.
   */
  replicaAcks?: ReplicaAcks | false;
};

const ACKS = new WeakMap<RedisClient, ReplicaAcks>();
/** A deployment's slot, by its hash-tagged prefix (one entry per prefix a process uses). */
const SLOTS = new Map<string, number>();

/** What a change that must survive a failover waits for on this connection, if anything. */
export function replicaAcksOf(redis: RedisClient): ReplicaAcks | undefined {
  return ACKS.get(redis);
}

/**
 * Waits until a replica has every write this connection made (WAIT), where a failover could
 * promote one that lacks them: Sentinel's master, or on a cluster the master of `key`'s slot when
 * that slot has replicas (a slot without replicas has no failover to lose a write in). Answers
 * whether enough replicas confirmed in time; true where there is nothing to wait for.
 */
export async function waitForReplicas(redis: RedisClient, key: string): Promise<boolean> {
  const acks = ACKS.get(redis);
  if (!acks) return true;
  if (!(redis instanceof Cluster))
    return Number(await redis.wait(acks.replicas, acks.timeoutMs)) >= acks.replicas;
  let slot = SLOTS.get(key);
  if (slot === undefined) {
    slot = Number(await redis.call('CLUSTER', 'KEYSLOT', key));
    SLOTS.set(key, slot);
  }
  const owners = redis.slots[slot];
  if (!owners || owners.length < 2) return true;
  // The write went over the cluster's own connection to the slot's master: WAIT there.
  const master = redis
    .nodes('master')
    .find((node) => `${node.options.host}:${node.options.port}` === owners[0]);
  if (!master) return false;
  return Number(await master.wait(acks.replicas, acks.timeoutMs)) >= acks.replicas;
}

// A command sent while disconnected fails at once: the authorizer answers 503 instead of waiting.
const FAIL_FAST = {
  maxRetriesPerRequest: 1,
  connectTimeout: 2_000,
  commandTimeout: 2_000,
} satisfies RedisOptions;

// Keep trying to reconnect forever, backing off to 1 s: recovery needs no restart.
const reconnectFast = (attempt: number) => Math.min(50 * attempt, 1_000);

/**
 * Opens a Redis connection that fails fast instead of queueing commands while Redis is away:
 * callers must see an error at once and refuse access, not hang. Every connection jitgate makes
 * comes from here or from `connectRedisForQueue` (a subscriber is a `duplicate()` of one of them).
 *
 * @example const redis = connectRedis(redisTarget(config));
 */
export function connectRedis(url: string, options?: ConnectOptions): Redis;
export function connectRedis(target: RedisTarget | string, options?: ConnectOptions): RedisClient;
export function connectRedis(target: RedisTarget | string, options: ConnectOptions = {}): RedisClient {
  return open(target, {
    ...FAIL_FAST,
    enableOfflineQueue: false,
    retryStrategy: reconnectFast,
    lazyConnect: false,
    ...options,
  });
}

/**
 * A connection BullMQ can use: it needs blocking commands without a retry limit (on a cluster, on
 * each node's connection). BullMQ's keys carry the deployment's hash tag (`keys.queuePrefix`).
 */
export function connectRedisForQueue(url: string, options?: ConnectOptions): Redis;
export function connectRedisForQueue(target: RedisTarget | string, options?: ConnectOptions): RedisClient;
export function connectRedisForQueue(
  target: RedisTarget | string,
  options: ConnectOptions = {},
): RedisClient {
  return open(target, {
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(100 * attempt, 2_000),
    ...options,
  });
}

function open(target: RedisTarget | string, options: ConnectOptions): RedisClient {
  const { cluster, replicaAcks, ...redisOptions } = options;
  const t: RedisTarget = typeof target === 'string' ? { kind: 'single', url: target } : target;
  switch (t.kind) {
    case 'single':
      return new Redis(t.url, redisOptions);
    case 'sentinel': {
      const { tls, ...credentials } = urlCredentials(t.url);
      const redis = new Redis({
        sentinels: t.sentinels,
        name: t.master,
        ...credentials,
        // rediss://: the master and replicas, and the sentinels too, are reached over TLS.
        ...(tls ? { tls, enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
        // Not ioredis's failoverDetector: its disconnect on +switch-master, arriving while the
        // connection is being re-made through the sentinels, ends the connection for good (seen in
        // test/ha/sentinel-failover.test.ts). A dead master closes the connection anyway, and a demoted
        // one answers READONLY (below): both reconnect through the sentinels.
        sentinelRetryStrategy: (attempt) => Math.min(100 * attempt, 1_000),
        // The old master, back as a replica, refuses writes: find the new master.
        reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
        ...redisOptions,
      });
      // Replication is asynchronous: a write the master acknowledged can be lost if it fails before
      // its replica has it. A revocation must not be: it waits for a replica (see README).
      if (replicaAcks !== false) ACKS.set(redis, replicaAcks ?? { replicas: 1, timeoutMs: 1_000 });
      return redis;
    }
    case 'cluster': {
      const { retryStrategy, enableOfflineQueue, lazyConnect, ...nodeOptions } = redisOptions;
      const { db: _db, ...credentials } = urlCredentials(t.url);
      const redis = new Cluster(t.nodes, {
        ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
        ...(lazyConnect === undefined ? {} : { lazyConnect }),
        clusterRetryStrategy: (attempt) =>
          typeof retryStrategy === 'function' ? retryStrategy(attempt) : Math.min(100 * attempt, 2_000),
        // A node that restarts keeps its slots: reconnect to it rather than wait for a MOVED.
        clusterNodeRetryStrategy: (attempt) => Math.min(100 * attempt, 1_000),
        redisOptions: { ...credentials, ...nodeOptions },
        ...cluster,
      });
      // As under Sentinel, where the deployment's slot has replicas (see waitForReplicas).
      if (replicaAcks !== false) ACKS.set(redis, replicaAcks ?? { replicas: 1, timeoutMs: 1_000 });
      return redis;
    }
  }
}

/**
 * A new connection with the same target and options (a subscriber needs its own: a subscribed
 * connection can run no other command).
 */
export function duplicateOf(redis: RedisClient): RedisClient {
  return redis instanceof Cluster ? redis.duplicate() : redis.duplicate();
}
