import type { Worker } from 'bullmq';
import { pino } from 'pino';
import type { AccessDeps } from '../../shared/access/deps.js';
import { effectsOf, type Outcome } from '../../shared/access/effects.js';
import { systemClock } from '../../shared/clock.js';
import { AccessStore } from '../../shared/grants/store.js';
import { JobScheduler } from '../../shared/jobs/scheduler.js';
import { startWorker } from '../../shared/jobs/worker.js';
import type { RedisClient } from '../../shared/redis/connect.js';
import { RecordingNotifier } from './recording-notifier.js';
import type { TestRedis } from './redis.js';

/**
 * The use cases' dependencies over a test's own Redis prefix: a real store and a real queue (on the
 * given BullMQ connection), no usergroups unless given. End them with `closeUseCaseDeps`.
 */
export function useCaseDeps(
  t: TestRedis,
  queue: RedisClient,
  over: Pick<AccessDeps, 'policy' | 'publicUrl'> & Partial<AccessDeps>,
): AccessDeps {
  return {
    store: new AccessStore(t.redis, { prefix: t.prefix, clock: systemClock }),
    scheduler: new JobScheduler(queue, t.keys.queuePrefix, systemClock),
    usergroups: async () => [],
    clock: systemClock,
    ...over,
  };
}

/** Empties and closes the deps' queue, then the test's keys. */
export async function closeUseCaseDeps(deps: AccessDeps, t: TestRedis): Promise<void> {
  await deps.scheduler.queue.obliterate({ force: true });
  await deps.scheduler.close();
  await t.cleanup();
}

/** The one-time link a granting outcome's DM hands over (its `send-redeem-link` effect); undefined when nothing was granted. */
export function redeemUrlOf(outcome: Pick<Outcome, 'effects'>): string | undefined {
  return effectsOf(outcome.effects, 'send-redeem-link')[0]?.redeemUrl;
}

/**
 * The worker over the use cases' dependencies, telling a RecordingNotifier what it would say in
 * Slack. Close the worker before closeUseCaseDeps.
 *
 * @example const { worker, notifier } = recordingWorker(deps, t, queue); await notifier.waitFor('escalated');
 */
export function recordingWorker(
  deps: AccessDeps,
  t: TestRedis,
  queue: RedisClient,
): { worker: Worker; notifier: RecordingNotifier } {
  const notifier = new RecordingNotifier();
  const worker = startWorker({
    connection: queue,
    queuePrefix: t.keys.queuePrefix,
    store: deps.store,
    scheduler: deps.scheduler,
    notifier,
    log: pino({ level: 'silent' }),
    reminderBeforeMs: () => 1_000,
  });
  return { worker, notifier };
}
