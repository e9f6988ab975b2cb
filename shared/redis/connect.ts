import { Redis, type RedisOptions } from 'ioredis';

/**
 * Opens a Redis connection that fails fast instead of queueing commands while Redis is away:
 * callers must see an error at once and refuse access, not hang.
 *
 * @example const redis = connectRedis(config.REDIS_URL);
 */
export function connectRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    // A command sent while disconnected fails at once: the authorizer answers 503 instead of waiting.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    // Keep trying to reconnect forever, backing off to 1 s: recovery needs no restart.
    retryStrategy: (attempt) => Math.min(50 * attempt, 1_000),
    lazyConnect: false,
    ...options,
  });
}

/** A connection BullMQ can use: it needs blocking commands without a retry limit. */
export function connectRedisForQueue(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(100 * attempt, 2_000),
    ...options,
  });
}
