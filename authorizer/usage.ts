import type { Clock } from '../shared/clock.js';
import type { AccessStore } from '../shared/grants/store.js';
import type { Logger } from '../shared/log.js';

/**
 * Records `access.allowed` off the hot path: the first time this process sees a grant it tells the
 * store at once (not awaited), so the audit log shows first use promptly; after that, requests are
 * counted in memory and flushed every few seconds, and once more on stop.
 */
export function createUsageRecorder(options: {
  store: Pick<AccessStore, 'transitions'>;
  log: Logger;
  clock: Clock;
  flushEveryMs?: number;
}) {
  const { store, log, clock } = options;
  /** Grants seen by this process, with requests not yet flushed. */
  const pending = new Map<string, number>();
  /** Grants seen by this process and when they end (ms), so that ended ones are forgotten. */
  const seen = new Map<string, number>();
  let flushing: Promise<void> | undefined;

  const record = (gid: string, n: number, client?: string) =>
    store.transitions.recordUse(gid, n, client).catch((err) => {
      // Redis away: keep the count for the next flush rather than lose it.
      pending.set(gid, (pending.get(gid) ?? 0) + n);
      log.warn({ err, grantId: gid }, 'could not record grant use; will retry');
      return 'retry' as const;
    });

  async function flush(): Promise<void> {
    if (flushing) return flushing;
    const batch = [...pending];
    pending.clear();
    flushing = (async () => {
      const results = await Promise.all(
        batch.map(([gid, n]) => record(gid, n).then((r) => [gid, r] as const)),
      );
      // Forget ended grants so that the map does not grow for ever.
      for (const [gid, r] of results) if (r === 'gone') seen.delete(gid);
      const now = clock.now();
      for (const [gid, endsAt] of seen) if (endsAt <= now && !pending.has(gid)) seen.delete(gid);
    })().finally(() => {
      flushing = undefined;
    });
    return flushing;
  }

  const timer = setInterval(() => void flush(), options.flushEveryMs ?? 5_000);
  timer.unref();

  return {
    /**
     * Called once per allowed request; `endsAt` is the grant's expiry in ms, `client` the request's
     * address (it goes in the audit event of the first request this process sees for the grant,
     * which is the grant's first use when no other process saw one before).
     */
    used(gid: string, endsAt: number, client?: string): void {
      if (!seen.has(gid)) {
        seen.set(gid, endsAt);
        void record(gid, 1, client);
        return;
      }
      pending.set(gid, (pending.get(gid) ?? 0) + 1);
    },
    flush,
    /** Stops the timer and flushes what is left. */
    async stop(): Promise<void> {
      clearInterval(timer);
      await flush();
    },
  };
}

export type UsageRecorder = ReturnType<typeof createUsageRecorder>;
