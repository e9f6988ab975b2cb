import { unavailable } from '../../shared/errors.js';
import type { RedisClient } from '../../shared/redis/connect.js';
import type { RedisKeys } from '../../shared/redis/keys.js';

/**
 * Marks a Slack delivery (a command, click, submission or event, by its id) as handled. True the
 * first time only (SET NX with a lifetime), so a retry or replay of the same delivery changes
 * nothing a second time, whichever bot it reaches.
 *
 * @example if (!(await firstDelivery(redis, keys, 'cmd:1234.5678', 86_400))) return;
 */
export async function firstDelivery(
  redis: RedisClient,
  keys: RedisKeys,
  id: string,
  ttlSec: number,
): Promise<boolean> {
  try {
    return (await redis.set(keys.delivery(id), '1', 'EX', ttlSec, 'NX')) === 'OK';
  } catch (err) {
    // A full Redis (maxmemory reached) refuses the mark but still answers: go on as a first
    // delivery. Then the only changes that can still be written are those that end access (revoke,
    // expiry: their scripts may use memory), and those are idempotent, so a retry changes nothing
    // twice all the same; everything else fails on its own write and says so.
    if (isOutOfMemory(err)) return true;
    throw unavailable(err);
  }
}

/** Redis' answer when `maxmemory` is reached under `noeviction`: `OOM command not allowed …`. */
export function isOutOfMemory(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('OOM ');
}
