import type { Worker } from 'bullmq';
import { pino } from 'pino';
import { afterAll, describe, expect, it, type TestContext } from 'vitest';
import { systemClock } from '../../shared/clock.js';
import { AccessStore, grantIdOf, type NewRequest } from '../../shared/grants/store.js';
import type { SlackUserId } from '../../shared/ids.js';
import { JobScheduler } from '../../shared/jobs/scheduler.js';
import { startWorker } from '../../shared/jobs/worker.js';
import { connectRedisForQueue } from '../../shared/redis/connect.js';
import { jobCompleted, queueSettled } from '../support/jobs.js';
import { RecordingNotifier } from '../support/recording-notifier.js';
import { REDIS_TARGET, testRedis } from '../support/redis.js';
import { newRequestInput } from '../support/requests.js';

const BOB = 'U0BOB' as SlackUserId;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const request = (overrides: Partial<NewRequest> = {}) => newRequestInput({ durationMs: 2_000, ...overrides });

const queueConnection = connectRedisForQueue(REDIS_TARGET);
afterAll(() => queueConnection.disconnect());

/**
 * A store, scheduler and notifier under a key prefix and queue of this test's own, so that the
 * tests (each waits real seconds for its jobs) run at the same time; removed when the test ends
 * (through the test's own context: with concurrent tests there is no "current" one).
 */
async function jobsContext({ onTestFinished }: TestContext) {
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
      reminderBeforeMs: () => 1_000,
    });
    workers.push(w);
    return w;
  };
  return { t, store, scheduler, notifier, events, worker };
}

describe.concurrent('jobs against real Redis and BullMQ', () => {
  it('when no worker runs, then a 2-second grant is still gone from Redis after its TTL', async (context) => {
    const { t, store } = await jobsContext(context);
    const req = request();
    await store.transitions.createRequest(req);
    const { decision } = await store.transitions.approve(req.id, BOB);
    expect(decision.outcome).toBe('granted');
    const gid = grantIdOf(req.id);
    expect((await store.queries.liveGrant(gid))?.status).toBe('active');
    const pttl = await t.redis.pttl(t.keys.grant(gid));
    expect(pttl).toBeGreaterThan(1_000);
    expect(pttl).toBeLessThanOrEqual(2_000);
    await sleep(2_150);
    expect(await store.queries.liveGrant(gid)).toBeUndefined();
    expect(await t.redis.exists(t.keys.grant(gid))).toBe(0);
  });

  it('when the worker runs, then the grant is revoked at expiry and grant.expired is audited once', async (context) => {
    const { t, store, scheduler, notifier, events, worker } = await jobsContext(context);
    worker();
    const req = request();
    await store.transitions.createRequest(req);
    const { decision } = await store.transitions.approve(req.id, BOB);
    if (decision.outcome !== 'granted') throw new Error('not granted');
    await scheduler.grantScheduled(req.id, decision.grantId, decision.expiresAt, 1_000);
    // Scheduling twice (a retried delivery) must not double anything.
    await scheduler.grantScheduled(req.id, decision.grantId, decision.expiresAt, 1_000);
    const reminded = await notifier.waitFor('grantExpiringSoon');
    expect(reminded.at).toBeLessThan(decision.expiresAt);
    const ended = await notifier.waitFor('grantEnded');
    const expiredEvent = events.find((e) => e.type === 'grant.expired');
    expect(expiredEvent).toBeDefined();
    expect(ended.at - decision.expiresAt).toBeLessThan(1_000);
    expect(ended.request.grantStatus).toBe('expired');
    await queueSettled(scheduler.queue);
    expect(events.filter((e) => e.type === 'grant.expired')).toHaveLength(1);
    expect(notifier.of('grantEnded')).toHaveLength(1);
    expect(notifier.of('grantExpiringSoon')).toHaveLength(1);
    expect(await t.redis.zcard(t.keys.activeGrants)).toBe(0);
  });

  it('when a request stays undecided, then it times out on its own and the requester is told once', async (context) => {
    const { store, scheduler, notifier, events, worker } = await jobsContext(context);
    worker();
    const req = request({ pendingTimeoutMs: 1_200 });
    await store.transitions.createRequest(req);
    const loaded = await store.queries.getRequest(req.id);
    await scheduler.requestFiled(loaded!, 400);
    await notifier.waitFor('nudgeApprovers');
    const told = await notifier.waitFor('requestExpired');
    expect(told.request.status).toBe('expired');
    expect(events.filter((e) => e.type === 'request.expired')).toHaveLength(1);
    expect(await store.queries.pendingRequests()).toEqual([]);
  });

  it('when a revoked grant reaches its expiry, then the expiry job changes nothing', async (context) => {
    const { store, scheduler, events, worker } = await jobsContext(context);
    const expiryJob = jobCompleted(worker(), (job) => job.name === 'grant-expire');
    const req = request({ durationMs: 1_000 });
    await store.transitions.createRequest(req);
    const { decision } = await store.transitions.approve(req.id, BOB);
    if (decision.outcome !== 'granted') throw new Error('not granted');
    await scheduler.grantScheduled(req.id, decision.grantId, decision.expiresAt, 0);
    await store.transitions.revoke(decision.grantId, BOB, 'done');
    expect(await expiryJob).toBe('noop');
    await queueSettled(scheduler.queue);
    expect(events.filter((e) => e.type === 'grant.expired')).toHaveLength(0);
    expect((await store.queries.getRequest(req.id))?.grantStatus).toBe('revoked');
  });

  it('when the notifier fails, then the job is retried and the message goes out once', async (context) => {
    const { store, scheduler, notifier, worker } = await jobsContext(context);
    worker();
    notifier.failTimes = 1;
    const req = request();
    await store.transitions.createRequest(req);
    const loaded = await store.queries.getRequest(req.id);
    await scheduler.notify(loaded!, 'refresh-message');
    const call = await notifier.waitFor('refreshApprovalMessage', 8_000);
    expect(call.request.id).toBe(req.id);
    await queueSettled(scheduler.queue);
    expect(notifier.of('refreshApprovalMessage')).toHaveLength(1);
  });
});
