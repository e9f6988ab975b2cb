import { WebClient } from '@slack/web-api';
import { pino } from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HomeRefresher } from '../../bot/effects/homes.js';
import { type SlackStandin, startSlackStandin } from '../../dev/slack/standin.js';
import { AccessService } from '../../shared/access/service.js';
import { systemClock } from '../../shared/clock.js';
import { AccessStore } from '../../shared/grants/store.js';
import type { SlackUserId } from '../../shared/ids.js';
import { JobScheduler } from '../../shared/jobs/scheduler.js';
import { loadPolicy } from '../../shared/policy/index.js';
import { connectRedisForQueue } from '../../shared/redis/connect.js';
import { REDIS_TARGET, type TestRedis, testRedis } from '../support/redis.js';

const u = (id: string) => id as SlackUserId;
const DEV = u('U0DEV');
const ALICE = u('U0ALICE'); // approves grafana
const SRE = u('U0SRE'); // approves db, through S0DB
const ADMIN = u('U0ADMIN');

const POLICY = `
defaults: { approvalChannel: C0APPROVALS, defaultDuration: 1h, maxDuration: 8h }
admins: { users: [U0ADMIN] }
resources:
  grafana:
    description: Grafana
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /grafana }
    approvers: { users: [U0ALICE] }
    maxPendingPerResource: 10
    roles: { viewer: { methods: [GET] } }
  db:
    description: The database console
    upstream: http://127.0.0.1:3002
    match: { pathPrefix: /db }
    approvers: { usergroups: [S0DB] }
    breakGlass: true
    roles: { viewer: { methods: [GET] } }
`;

const silent = pino({ level: 'silent' });
const json = (v: unknown) => JSON.stringify(v);

describe('App Home refreshes: coalesced, read at once, only when changed', () => {
  let t: TestRedis;
  let slack: SlackStandin;
  let access: AccessService;
  let client: WebClient;
  const queueConnection = connectRedisForQueue(REDIS_TARGET);
  let scheduler: JobScheduler;
  const policy = loadPolicy(POLICY);
  const publishesTo = (user: SlackUserId) =>
    slack.callsTo('views.publish').filter((c) => c.body.user_id === user);

  beforeEach(async () => {
    t = await testRedis();
    slack = await startSlackStandin();
    slack.setUsergroup('S0DB', [SRE]);
    client = new WebClient('xoxb-test', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    scheduler = new JobScheduler(queueConnection, t.keys.queuePrefix, systemClock);
    access = new AccessService({
      store: new AccessStore(t.redis, { prefix: t.prefix, clock: systemClock }),
      scheduler,
      policy: () => policy,
      usergroups: async (group) => (group === 'S0DB' ? [SRE] : []),
      clock: systemClock,
      publicUrl: 'https://access.example.com',
    });
  });
  afterEach(async () => {
    await scheduler.close();
    await slack.close();
    await t.cleanup();
  });
  afterAll(async () => {
    await queueConnection.quit();
  });

  const file = (user: SlackUserId, resource: string, reason: string, breakGlass = false) =>
    access.request({ user, email: `${user}@example.com`, resource, reason, breakGlass });

  it('when one read serves several homes, then each shows what the per-person queries show', async () => {
    const mine = await file(DEV, 'grafana', 'INC-1 dashboards');
    const glass = await file(u('U0KIM'), 'db', 'INC-2 outage', true);
    const approved = await file(u('U0LEE'), 'grafana', 'INC-3 approved');
    await access.approve(approved.request.id, ALICE);
    const people = [DEV, ALICE, SRE, ADMIN, u('U0LEE'), u('U0KIM'), u('U0NOBODY')];
    const homes = await access.homes(people);
    for (const user of people) {
      const one = homes.get(user)!;
      const { grants, pending } = await access.list(user);
      expect(one.grants).toEqual(grants);
      expect(one.pending).toEqual(pending);
      expect(one.awaiting).toEqual(await access.awaiting(user));
      expect(one.toReview).toEqual(await access.awaitingReview(user));
    }
    // And they are not empty, so that the comparison means something.
    expect(homes.get(DEV)!.pending.map((r) => r.id)).toEqual([mine.request.id]);
    expect(homes.get(ALICE)!.awaiting.map((r) => r.id)).toEqual([mine.request.id]);
    expect(homes.get(SRE)!.toReview.map((r) => r.grantId)).toEqual([glass.request.grantId]);
    expect(homes.get(ADMIN)!.toReview.map((r) => r.grantId)).toEqual([glass.request.grantId]);
    expect(homes.get(u('U0LEE'))!.grants.map((r) => r.id)).toEqual([approved.request.id]);
    expect(homes.get(u('U0KIM'))!.toReview).toEqual([]); // never the one who broke glass
  });

  it('when a home is marked many times in a window, then it is published once, with the latest state', async () => {
    const homes = new HomeRefresher({ client, access, clock: systemClock, log: silent }, { windowMs: 50 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await file(DEV, 'grafana', `INC-${i} burst`)).request.id);
      homes.refresh([DEV, ALICE]);
    }
    await homes.settled();
    expect(publishesTo(DEV)).toHaveLength(1);
    expect(publishesTo(ALICE)).toHaveLength(1);
    for (const id of ids) expect(json(publishesTo(DEV)[0]!.body)).toContain(id);
    expect(json(publishesTo(ALICE)[0]!.body)).toContain('Waiting for you (5)');
  });

  it('when a home is marked while its round is publishing, then it is published again after, with the change', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let publishing!: () => void;
    const started = new Promise<void>((resolve) => {
      publishing = resolve;
    });
    // The real client, its first publish held until the change below is made.
    const slow = {
      views: {
        publish: async (args: Parameters<WebClient['views']['publish']>[0]) => {
          publishing();
          await held;
          return client.views.publish(args);
        },
      },
    } as unknown as WebClient;
    const homes = new HomeRefresher(
      { client: slow, access, clock: systemClock, log: silent },
      { windowMs: 10 },
    );
    homes.refresh([DEV]);
    await started;
    const late = await file(DEV, 'grafana', 'INC-9 filed during the round');
    homes.refresh([DEV]);
    release();
    await homes.settled();
    const calls = publishesTo(DEV);
    expect(calls).toHaveLength(2);
    expect(json(calls[0]!.body)).not.toContain(late.request.id);
    expect(json(calls[1]!.body)).toContain(late.request.id);
  });

  it('when a home’s content has not changed since it was published, then it is not published again, unless its owner opens it', async () => {
    const homes = new HomeRefresher({ client, access, clock: systemClock, log: silent }, { windowMs: 10 });
    await file(DEV, 'grafana', 'INC-1 first');
    homes.refresh([DEV]);
    await homes.settled();
    homes.refresh([DEV]);
    await homes.settled();
    expect(publishesTo(DEV)).toHaveLength(1);

    await file(DEV, 'grafana', 'INC-2 second');
    homes.refresh([DEV]);
    await homes.settled();
    expect(publishesTo(DEV)).toHaveLength(2);

    await homes.publishNow(DEV);
    expect(publishesTo(DEV)).toHaveLength(3);
  });

  it('when a publish fails, then the others are published, the failure is not remembered as published, and refresh never throws', async () => {
    const homes = new HomeRefresher({ client, access, clock: systemClock, log: silent }, { windowMs: 10 });
    await file(DEV, 'grafana', 'INC-1 failing');
    slack.failNext('views.publish', { error: 'internal_error' });
    homes.refresh([DEV]);
    await homes.settled();
    homes.refresh([ALICE]);
    await homes.settled();
    expect(publishesTo(ALICE)).toHaveLength(1);
    // The failed one is tried again on the next change, although its content is the same.
    homes.refresh([DEV]);
    await homes.settled();
    const tried = slack.calls.filter((c) => c.method === 'views.publish' && c.body.user_id === DEV);
    expect(tried.map((c) => c.failed ?? false)).toEqual([true, false]);
  });

  it('when Redis cannot be read, then the round is given up, logged, and the next one works', async () => {
    const broken = new HomeRefresher(
      {
        client,
        access: { homes: () => Promise.reject(new Error('Redis is away')) },
        clock: systemClock,
        log: silent,
      },
      { windowMs: 10 },
    );
    broken.refresh([DEV]);
    await broken.settled();
    expect(publishesTo(DEV)).toHaveLength(0);
  });

  it('when flushed (shutdown), then what waits is published at once, without waiting for the window', async () => {
    const homes = new HomeRefresher(
      { client, access, clock: systemClock, log: silent },
      { windowMs: 60_000 },
    );
    homes.refresh([DEV, ALICE]);
    await homes.flush();
    expect(publishesTo(DEV)).toHaveLength(1);
    expect(publishesTo(ALICE)).toHaveLength(1);
  });
});
