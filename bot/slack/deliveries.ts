import type { Redis } from 'ioredis';
import { unavailable } from '../../shared/errors.js';
import type { RedisKeys } from '../../shared/redis/keys.js';

/**
 * Marks a Slack delivery (a command, click, submission or event, by its id) as handled. True the
 * first time only (SET NX with a lifetime), so a retry or replay of the same delivery changes
 * nothing a second time, whichever bot it reaches.
 *
 * @example if (!(await firstDelivery(redis, keys, 'cmd:1234.5678', 86_400))) return;
 */
export async function firstDelivery(
  redis: Redis,
  keys: RedisKeys,
  id: string,
  ttlSec: number,
): Promise<boolean> {
  try {
    return (await redis.set(keys.delivery(id), '1', 'EX', ttlSec, 'NX')) === 'OK';
  } catch (err) {
    throw unavailable(err);
  }
}
