import type { Worker } from 'bullmq';
import { pino } from 'pino';
import { afterAll, describe, expect, it, type TestContext } from 'vitest';
import { systemClock } from '../../shared/clock.js';
import { AccessStore, type NewRequest } from '../../shared/grants/store.js';
import type { GrantId, SlackUserId } from '../../shared/ids.js';
import { jobIdOf } from '../../shared/jobs/definitions.js';
import { JobScheduler } from '../../shared/jobs/scheduler.js';
import { startWorker } from '../../shared/jobs/worker.js';
import { connectRedisForQueue } from '../../shared/redis/connect.js';
import { jobCompleted, queueSettled } from '../support/jobs.js';
import { RecordingNotifier } from '../support/recording-notifier.js';
import { keysMatching, REDIS_TARGET, testRedis } from '../support/redis.js';
import { newRequestInput } from '../support/requests.js';

const BOB = 'U0BOB' as SlackUserId;
const queueConnection = connectRedisForQueue(REDIS_TARGET);
afterAll(() => queueConnection.disconnect());

/** A store, scheduler, worker and recording notifier under a prefix and queue of this test's own. */
async function context({ onTestFinished }: TestContext, reminderBeforeMs = 1_000) {
  const t = await testRedis();
  const events: Record<string, unknown>[] = [];
  const store = new AccessStore(t.redis, {
    prefix: t.prefix,
    clock: systemClock,
    auditSink: (e) => events.push(e),
  });
  const scheduler = new JobScheduler(queueConnection, t.keys.queuePrefix, systemClock);
  const notifier = new RecordingNotifier();
  const workers: Worker[] = [];
  onTestFinished(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await scheduler.queue.obliterate({ force: true });
    await scheduler.close();
    await t.cleanup();
  });
  const worker = (): Worker => {
    const w = startWorker({
      connection: queueConnection,
      queuePrefix: t.keys.queuePrefix,
      store,
      scheduler,
      notifier,
      log: pino({ level: 'silent' }),
      reminderBeforeMs: () => reminderBeforeMs,
    });
    workers.push(w);
    return w;
  };
  /** Every key of the queue that holds a job (a hash named by its id). */
  const jobKeys = async () =>
    (await keysMatching(t.redis, `${t.keys.queuePrefix}:jitgate:*`)).filter((k) =>
      /:jitgate:(grant|request|notify|effects|redeem|review|file)-/.test(k),
    );
  const granted = async (overrides: Partial<NewRequest> = {}) => {
    const req = newRequestInput({ durationMs: 2_000, ...overrides });
    await store.transitions.createRequest(req);
    const { decision } = await store.transitions.approve(req.id, BOB);
    if (decision.outcome !== 'granted') throw new Error('not granted');
    return { req, grantId: decision.grantId as GrantId, expiresAt: decision.expiresAt };
  };
  return { t, store, scheduler, notifier, events, worker, jobKeys, granted };
}

describe.concurrent('what jobs keep in Redis', () => {
  it('when a grant is scheduled, then it has one job, which reminds the holder, then ends the grant, and leaves nothing behind', async (ctx) => {
    const { scheduler, notifier, events, worker, jobKeys, granted, t } = await context(ctx);
    const { req, grantId, expiresAt } = await granted();
    await scheduler.grantScheduled(req.id, grantId, expiresAt, 1_000);
    const queued = await scheduler.queue.getDelayed();
    expect(queued.map((j) => j.id)).toEqual([
      jobIdOf({ kind: 'grant-expire', requestId: req.id, grantId, expiresAt }),
    ]);
    worker();
    const reminded = await notifier.waitFor('grantExpiringSoon');
    expect(reminded.at).toBeLessThan(expiresAt);
    const ended = await notifier.waitFor('grantEnded');
    expect(ended.request.grantStatus).toBe('expired');
    await queueSettled(scheduler.queue);
    expect(notifier.of('grantExpiringSoon')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'grant.expired')).toHaveLength(1);
    // Completed jobs are removed at once: no job hash stays, nor a completed set.
    expect(await jobKeys()).toEqual([]);
    expect(await t.redis.exists(`${t.keys.queuePrefix}:jitgate:completed`)).toBe(0);
  });

  it('when a grant’s end is scheduled again after its job completed and was removed, then the late duplicate changes nothing and tells nobody again', async (ctx) => {
    const { scheduler, notifier, events, worker, granted } = await context(ctx, 0);
    const { req, grantId, expiresAt } = await granted({ durationMs: 500 });
    await scheduler.grantScheduled(req.id, grantId, expiresAt, 0);
    const w = worker();
    await notifier.waitFor('grantEnded');
    await queueSettled(scheduler.queue);
    const late = jobCompleted(w, (job) => job.name === 'grant-expire');
    await scheduler.grantScheduled(req.id, grantId, expiresAt, 0);
    expect(await late).toBe('noop');
    await queueSettled(scheduler.queue);
    expect(events.filter((e) => e.type === 'grant.expired')).toHaveLength(1);
    expect(notifier.of('grantEnded')).toHaveLength(1);
  });

  it('when a DM is queued again after its job completed and was removed, then the deduplication key keeps it from going twice', async (ctx) => {
    const { store, scheduler, notifier, worker, jobKeys, granted, t } = await context(ctx);
    const { req } = await granted();
    const request = (await store.queries.getRequest(req.id))!;
    worker();
    await scheduler.notify(request, 'grant-ended');
    await notifier.waitFor('grantEnded');
    await queueSettled(scheduler.queue);
    expect(await jobKeys()).toEqual([]);
    await scheduler.notify(request, 'grant-ended');
    await scheduler.redeemRefused({ requestId: req.id, grantId: request.grantId!, openedBy: 'bob@acme.com' });
    await notifier.waitFor('redeemRefused');
    await scheduler.redeemRefused({ requestId: req.id, grantId: request.grantId!, openedBy: 'bob@acme.com' });
    await queueSettled(scheduler.queue);
    expect(notifier.of('grantEnded')).toHaveLength(1);
    expect(notifier.of('redeemRefused')).toHaveLength(1);
    // Someone else opening the link is told about, once too.
    await scheduler.redeemRefused({ requestId: req.id, grantId: request.grantId!, openedBy: 'eve@acme.com' });
    await expect.poll(() => notifier.of('redeemRefused').length).toBe(2);
    // What recognises them is a short key with a TTL, not the completed job.
    const dedup = await keysMatching(t.redis, `${t.keys.queuePrefix}:jitgate:de:*`);
    expect(dedup.length).toBe(3);
    for (const key of dedup) expect(await t.redis.pttl(key)).toBeGreaterThan(0);
  });
});
