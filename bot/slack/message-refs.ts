import { unavailable } from '../../shared/errors.js';
import type { SlackMessageRef } from '../../shared/grants/records.js';
import type { RequestId } from '../../shared/ids.js';
import type { RedisClient } from '../../shared/redis/connect.js';
import type { RedisKeys } from '../../shared/redis/keys.js';

/**
 * Where a request's approval message lives in Slack (channel and ts), so that every later change
 * updates it in place. The bot's alone, but kept as two fields of the request's own hash: they live
 * and expire with the request, share its cluster slot, and come back with every read of it
 * (`AccessRequest.message`) at no extra round trip.
 *
 * @example await saveMessageRef(redis, keys, request.id, { channel: 'C0APPROVALS', ts: '1712.0001' });
 */
export async function saveMessageRef(
  redis: RedisClient,
  keys: RedisKeys,
  requestId: RequestId,
  ref: SlackMessageRef,
): Promise<void> {
  try {
    await redis.hset(keys.request(requestId), 'channel', ref.channel, 'ts', ref.ts);
  } catch (err) {
    throw unavailable(err);
  }
}
