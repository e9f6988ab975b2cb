import type { Logger } from '../shared/log.js';
import { connectRedis, connectRedisForQueue, type RedisClient } from '../shared/redis/connect.js';
import type { RedisTarget } from '../shared/redis/target.js';

/** The Redis connections of one system: the store's (fail-fast) and, for the bot or worker, BullMQ's. */
export interface Connections {
  redis: RedisClient;
  queueRedis: RedisClient | undefined;
  /** Closes the connections this system opened; a connection the caller lent stays open. */
  close(): Promise<void>;
}

/**
 * Opens what the roles need on `target` (one Redis, a cluster or Sentinel's master), or borrows the
 * caller's store connection (a test's, with its own key prefix). BullMQ's connection is always
 * opened here: it needs blocking commands without a retry limit, which the store's fail-fast
 * connection must not have.
 */
export function openConnections(input: {
  target: RedisTarget;
  borrowed: RedisClient | undefined;
  queue: boolean;
  log: Logger;
}): Connections {
  const { log } = input;
  const opened: RedisClient[] = [];
  let redis = input.borrowed;
  if (!redis) {
    redis = connectRedis(input.target);
    redis.on('error', (err) => log.warn({ err: err.message }, 'redis: connection error'));
    opened.push(redis);
  }
  let queueRedis: RedisClient | undefined;
  if (input.queue) {
    queueRedis = connectRedisForQueue(input.target);
    queueRedis.on('error', (err) => log.warn({ err: err.message }, 'redis (queue): connection error'));
    opened.push(queueRedis);
  }
  return {
    redis,
    queueRedis,
    async close() {
      await Promise.allSettled(opened.map(closeConnection));
    },
  };
}

/**
 * QUIT (pending replies arrive first), but never wait on a Redis that is frozen or away: after a
 * second the connection is dropped. BullMQ's connection would otherwise wait for Redis forever.
 */
async function closeConnection(redis: RedisClient): Promise<void> {
  if (redis.status === 'ready') {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 1_000);
    });
    await Promise.race([redis.quit().catch(() => {}), gaveUp]);
    clearTimeout(timer);
  }
  redis.disconnect();
}
