import { unavailable } from '../errors.js';
import type { RedisClient } from '../redis/connect.js';
import type { redisKeys } from '../redis/keys.js';
import { LIVE_GRANT_FIELDS, type LiveGrant, parseLiveGrant } from './records.js';

interface Waiting {
  grantId: string;
  resolve(grant: LiveGrant | undefined): void;
  reject(err: unknown): void;
}

/**
 * The authorizer's per-request grant read (one HMGET each, never cached), with the reads of
 * concurrent requests sent together: every read asked for during one turn of the event loop goes
 * out in one pipeline (one write to Redis, one read of the replies) once that turn's I/O callbacks
 * have run (setImmediate). Each request still gets its own HMGET, sent after it asked, so a
 * revocation committed before a request arrived is seen by that request.
 *
 * Failures are each read's own: a command that fails (Redis away: the fail-fast connection refuses
 * it at once; a timeout; a reply that is not a grant hash) rejects that read with `unavailable`,
 * and the next turn starts a new pipeline on whatever connection there is then. Nothing is queued
 * across turns, so nothing waits for a reconnection (unlike ioredis's auto-pipelining, whose queue
 * outlived an outage).
 *
 * @example const reads = liveGrantReads(redis, keys); const grant = await reads.liveGrant(gid);
 */
export function liveGrantReads(redis: RedisClient, keys: Pick<ReturnType<typeof redisKeys>, 'grant'>) {
  let waiting: Waiting[] = [];
  const stats = { reads: 0, pipelines: 0 };

  function send(): void {
    const batch = waiting;
    waiting = [];
    stats.pipelines += 1;
    if (batch.length === 1) {
      const w = batch[0]!;
      redis.hmget(keys.grant(w.grantId), ...LIVE_GRANT_FIELDS).then(
        (values) => settle(w, null, values),
        (err: unknown) => w.reject(unavailable(err)),
      );
      return;
    }
    const pipeline = redis.pipeline();
    for (const w of batch) pipeline.hmget(keys.grant(w.grantId), ...LIVE_GRANT_FIELDS);
    pipeline.exec().then(
      (replies) => {
        for (let i = 0; i < batch.length; i += 1) {
          const reply = replies?.[i];
          if (reply === undefined) batch[i]!.reject(unavailable(new Error('no reply in the pipeline')));
          else settle(batch[i]!, reply[0], reply[1]);
        }
      },
      (err: unknown) => {
        for (const w of batch) w.reject(unavailable(err));
      },
    );
  }

  function settle(w: Waiting, err: Error | null, values: unknown): void {
    if (err) {
      w.reject(unavailable(err));
      return;
    }
    if (!Array.isArray(values)) {
      w.reject(unavailable(new Error('a grant read answered something other than a list')));
      return;
    }
    w.resolve(parseLiveGrant(w.grantId, values as (string | null)[]));
  }

  return {
    /** The grant as Redis has it now; undefined when no live grant exists (expired or never). */
    liveGrant(grantId: string): Promise<LiveGrant | undefined> {
      stats.reads += 1;
      return new Promise((resolve, reject) => {
        if (waiting.length === 0) setImmediate(send);
        waiting.push({ grantId, resolve, reject });
      });
    },
    /** Reads asked for and pipelines (or single commands) sent, since the start. */
    stats: () => ({ ...stats }),
  };
}

export type LiveGrantReads = ReturnType<typeof liveGrantReads>;
