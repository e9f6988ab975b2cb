import { unavailable } from '../errors.js';
import type { RedisClient } from '../redis/connect.js';
import type { RedisKeys } from '../redis/keys.js';

/**
 * Refusals that name no grant (no token, a forged or expired one, an unknown resource, …) are not
 * audited one by one: anyone can send them, as fast as they like, and each stored event would grow
 * Redis. They are counted instead, per minute, resource and refusal code, in one small hash per
 * minute that expires after REFUSAL_COUNTS_KEEP_MS. Every label is bounded (resource names come from
 * the policy, codes from the code's own list), so the counts take a fixed amount of memory whatever
 * the traffic: at most one hash per minute kept (1,440 a day), each about 100 B plus 40 B per resource
 * and code seen in that minute. Prometheus (`jitgate_authorizer_decisions_total`) keeps them longer.
 */
export const REFUSAL_COUNTS_KEEP_MS = 24 * 3_600_000;

const MINUTE_MS = 60_000;

/**
 * Refusals about a real grant (a revoked grant used, a redeem link opened by someone else) are
 * audited, but at most this many per grant and window; the rest are counted like any refusal.
 */
export const GRANT_REFUSALS_AUDITED = { perWindow: 10, windowMs: MINUTE_MS } as const;

/** One counted cell: the minute (ms at its start), the resource ('' when none matched) and the code. */
export interface RefusalCount {
  minute: number;
  resource: string;
  reason: string;
  count: number;
}

/** The minute (ms since the epoch at its start) that `ms` falls in. */
export function minuteOf(ms: number): number {
  return ms - (ms % MINUTE_MS);
}

const field = (resource: string, reason: string) => `${resource}|${reason}`;

/**
 * Adds counts in one round trip (one MULTI: HINCRBY per cell, PEXPIREAT per minute's hash). Throws
 * `unavailable` when Redis cannot take them (away, or full: a counter is never worth more than
 * access), so that the caller keeps them for the next try.
 *
 * @example await addRefusalCounts(redis, keys, [{ minute, resource: 'grafana', reason: 'token_missing', count: 120 }]);
 */
export async function addRefusalCounts(
  redis: RedisClient,
  keys: RedisKeys,
  counts: readonly RefusalCount[],
): Promise<void> {
  if (counts.length === 0) return;
  const tx = redis.multi();
  const minutes = new Set<number>();
  for (const c of counts) {
    tx.hincrby(keys.refusalCounts(c.minute), field(c.resource, c.reason), c.count);
    minutes.add(c.minute);
  }
  for (const m of minutes) tx.pexpireat(keys.refusalCounts(m), m + MINUTE_MS + REFUSAL_COUNTS_KEEP_MS);
  let results: [Error | null, unknown][] | null;
  try {
    results = await tx.exec();
  } catch (err) {
    throw unavailable(err);
  }
  const failed = results?.find(([err]) => err !== null)?.[0];
  if (!results || failed) throw unavailable(failed ?? new Error('the counts were not written'));
}

/**
 * The counts kept for the minutes from `sinceMs` to `nowMs`, oldest first (one pipelined read).
 *
 * @example for (const c of await readRefusalCounts(redis, keys, Date.now() - 3_600_000, Date.now())) …
 */
export async function readRefusalCounts(
  redis: RedisClient,
  keys: RedisKeys,
  sinceMs: number,
  nowMs: number,
): Promise<RefusalCount[]> {
  const first = minuteOf(Math.max(sinceMs, nowMs - REFUSAL_COUNTS_KEEP_MS - MINUTE_MS));
  const minutes: number[] = [];
  for (let m = first; m <= nowMs; m += MINUTE_MS) minutes.push(m);
  const pipeline = redis.pipeline();
  for (const m of minutes) pipeline.hgetall(keys.refusalCounts(m));
  let results: [Error | null, unknown][] | null;
  try {
    results = await pipeline.exec();
  } catch (err) {
    throw unavailable(err);
  }
  const counts: RefusalCount[] = [];
  minutes.forEach((minute, i) => {
    const [err, hash] = results?.[i] ?? [new Error('no reply'), undefined];
    if (err) throw unavailable(err);
    const cells = Object.entries((hash ?? {}) as Record<string, string>).sort(([a], [b]) =>
      a.localeCompare(b),
    );
    for (const [f, n] of cells) {
      const bar = f.lastIndexOf('|');
      counts.push({ minute, resource: f.slice(0, bar), reason: f.slice(bar + 1), count: Number(n) });
    }
  });
  return counts;
}
