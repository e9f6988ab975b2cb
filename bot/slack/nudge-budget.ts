import type { SlackUserId } from '../../shared/ids.js';
import type { RedisClient } from '../../shared/redis/connect.js';
import type { RedisKeys } from '../../shared/redis/keys.js';

/** The most nudge DMs one approver gets in an hour; past it the approval channel and App Home must do. */
export const NUDGES_PER_APPROVER_PER_HOUR = 20;
const WINDOW_MS = 3_600_000;

/**
 * Which approvers may be nudged about a request now: each at most once per request (the scheduled
 * nudge and the fallback for an unposted message are one nudge), and none more than
 * NUDGES_PER_APPROVER_PER_HOUR times an hour, however many requests wait. One key per approver
 * (`keys.nudgesTo`, request id → time), changed in one MULTI; a DM that then fails is given back
 * with `release`, so that a retried nudge tries again. `overflowing` are the approvers who just
 * went past their share (once an hour each): they get one short note instead of more DMs.
 *
 * @example const { nudge, overflowing } = await claimNudges(redis, keys, request.id, approvers, Date.now());
 */
export async function claimNudges(
  redis: RedisClient,
  keys: RedisKeys,
  requestId: string,
  approvers: readonly SlackUserId[],
  now: number,
): Promise<{ nudge: SlackUserId[]; overflowing: SlackUserId[] }> {
  if (approvers.length === 0) return { nudge: [], overflowing: [] };
  const multi = redis.multi();
  for (const approver of approvers) {
    const key = keys.nudgesTo(approver);
    multi.hsetnx(key, requestId, String(now)).hlen(key).pexpire(key, WINDOW_MS, 'NX');
  }
  const replies = (await multi.exec()) ?? [];
  const nudge: SlackUserId[] = [];
  const overflowing: SlackUserId[] = [];
  approvers.forEach((approver, i) => {
    if (replies[i * 3]?.[1] !== 1) return;
    const count = Number(replies[i * 3 + 1]?.[1] ?? Number.POSITIVE_INFINITY);
    if (count <= NUDGES_PER_APPROVER_PER_HOUR) nudge.push(approver);
    else if (count === NUDGES_PER_APPROVER_PER_HOUR + 1) overflowing.push(approver);
  });
  return { nudge, overflowing };
}

/** Gives back the nudges of a request whose DM could not be sent. */
export async function releaseNudges(
  redis: RedisClient,
  keys: RedisKeys,
  requestId: string,
  approvers: readonly SlackUserId[],
): Promise<void> {
  if (approvers.length === 0) return;
  const multi = redis.multi();
  for (const approver of approvers) multi.hdel(keys.nudgesTo(approver), requestId);
  await multi.exec();
}
