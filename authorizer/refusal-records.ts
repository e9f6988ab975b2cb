import {
  addRefusalCounts,
  GRANT_REFUSALS_AUDITED,
  minuteOf,
  type RefusalCount,
} from '../shared/audit/refusal-counts.js';
import type { Clock } from '../shared/clock.js';
import type { AccessStore } from '../shared/grants/store.js';
import type { Logger } from '../shared/log.js';
import type { RedisClient } from '../shared/redis/connect.js';
import type { RedisKeys } from '../shared/redis/keys.js';
import type { Metrics } from './metrics.js';

/** What the recorder is told about one refusal. */
export interface RefusalRecord {
  /** The resource matched ('' or undefined when none did: the label is the policy's, never the request's). */
  resource: string | undefined;
  /** The refusal code. */
  reason: string;
  /** The grant a verified token or a session named; undefined when none was verified. */
  grantId: string | undefined;
  /** The audit event, for a refusal that names a grant (built only when it will be written). */
  event?: () => Record<string, unknown> & { type: string };
}

export interface RefusalRecorderOptions {
  redis: RedisClient;
  keys: RedisKeys;
  store: Pick<AccessStore, 'transitions'>;
  clock: Clock;
  log: Logger;
  metrics: Pick<Metrics, 'refusalRecords'>;
  /** How often the counts are written (default 1 s: one round trip per second, whatever the traffic). */
  flushEveryMs?: number;
  /** Cells kept while Redis cannot take them; past that, new ones are dropped and counted as lost. */
  maxPendingCells?: number;
  /** Audited refusals per grant and window (default GRANT_REFUSALS_AUDITED, 10 a minute); the rest are counted only. */
  grantAuditLimit?: { perWindow: number; windowMs: number };
}

/**
 * Where a refusal goes in Redis. Every refusal is counted per minute, resource and code, in memory,
 * and the counts are written once a second (one MULTI); nothing about the request itself (path,
 * headers, client) is stored for it. A refusal that names a real grant (its token verified, or a
 * session's grant) is also audited as `access.denied`, at most `grantAuditLimit` per grant, so that
 * an insider's refused attempts stay in the chain without letting anyone grow it at will.
 *
 * Fail-safe: none of this is awaited by the request, which is refused either way. With Redis away or
 * full, the counts wait in memory (bounded by `maxPendingCells`) for the next flush.
 */
export function createRefusalRecorder(options: RefusalRecorderOptions) {
  const { redis, keys, store, clock, log, metrics } = options;
  const maxCells = options.maxPendingCells ?? 10_000;
  const limit = options.grantAuditLimit ?? GRANT_REFUSALS_AUDITED;
  /** Counts not yet written: `minute|resource|reason` → count. */
  let pending = new Map<string, RefusalCount>();
  /** Grants whose allowance this process has seen used up, until their window ends (saves the round trip). */
  const spent = new Map<string, number>();
  let flushing: Promise<void> | undefined;
  let lostSince = 0;

  function count(resource: string, reason: string, n = 1, minute = minuteOf(clock.now())): void {
    const cell = `${minute}|${resource}|${reason}`;
    const known = pending.get(cell);
    if (known) {
      known.count += n;
      return;
    }
    if (pending.size >= maxCells) {
      lostSince += n;
      metrics.refusalRecords.inc({ record: 'lost' }, n);
      return;
    }
    pending.set(cell, { minute, resource, reason, count: n });
  }

  function audit(grantId: string, event: NonNullable<RefusalRecord['event']>): void {
    const until = spent.get(grantId);
    if (until !== undefined && until > clock.now()) {
      metrics.refusalRecords.inc({ record: 'over_limit' });
      return;
    }
    store.transitions
      .auditGrantRefusal(grantId, event(), limit)
      .then((audited) => {
        metrics.refusalRecords.inc({ record: audited ? 'audited' : 'over_limit' });
        // The window started at the grant's first audited refusal; a full window from now is an upper bound.
        if (!audited) spent.set(grantId, clock.now() + limit.windowMs);
      })
      .catch((err: unknown) => {
        metrics.refusalRecords.inc({ record: 'lost' });
        log.warn({ err, grantId }, 'could not audit a refused use of a grant');
      });
  }

  async function flush(): Promise<void> {
    if (flushing) return flushing;
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    flushing = addRefusalCounts(redis, keys, [...batch.values()])
      .then(() => {
        if (lostSince > 0)
          log.warn({ lost: lostSince }, 'refusal counts were lost while Redis could not take them');
        lostSince = 0;
      })
      .catch((err: unknown) => {
        // Keep them for the next flush (merged with what came meanwhile, within the bound).
        for (const c of batch.values()) count(c.resource, c.reason, c.count, c.minute);
        log.warn({ err, cells: batch.size }, 'could not write refusal counts; will retry');
      })
      .finally(() => {
        flushing = undefined;
        const now = clock.now();
        for (const [gid, until] of spent) if (until <= now) spent.delete(gid);
      });
    return flushing;
  }

  const timer = setInterval(() => void flush(), options.flushEveryMs ?? 1_000);
  timer.unref();

  return {
    /** Called once per refusal; never waits and never throws. */
    refused(r: RefusalRecord): void {
      count(r.resource ?? '', r.reason);
      if (r.grantId !== undefined && r.event) audit(r.grantId, r.event);
      else metrics.refusalRecords.inc({ record: 'counted' });
    },
    flush,
    /** Stops the timer and writes what is left. */
    async stop(): Promise<void> {
      clearInterval(timer);
      await flush();
    },
  };
}

export type RefusalRecorder = ReturnType<typeof createRefusalRecorder>;
