import { WebClient } from '@slack/web-api';
import type { Worker } from 'bullmq';
import { pino } from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MessageSync } from '../../bot/slack/message-sync.js';
import { SlackNotifier } from '../../bot/slack/notifier.js';
import { slackPeople } from '../../bot/slack/people.js';
import { type SlackStandin, startSlackStandin } from '../../dev/slack/standin.js';
import { AccessService } from '../../shared/access/service.js';
import { systemClock } from '../../shared/clock.js';
import type { AccessRequest } from '../../shared/grants/records.js';
import { AccessStore } from '../../shared/grants/store.js';
import type { GrantId, SlackUserId } from '../../shared/ids.js';
import { jobIdOf } from '../../shared/jobs/definitions.js';
import { type Notifier, PermanentFailure } from '../../shared/jobs/notifier.js';
import { JobScheduler } from '../../shared/jobs/scheduler.js';
import { startWorker } from '../../shared/jobs/worker.js';
import { loadPolicy } from '../../shared/policy/index.js';
import { connectRedisForQueue } from '../../shared/redis/connect.js';
import { REDIS_TARGET, type TestRedis, testRedis } from '../support/redis.js';

const CAROL = 'U0CAROL' as SlackUserId; // asks
const ALICE = 'U0ALICE' as SlackUserId; // approves (named)
const BOB = 'U0BOB' as SlackUserId; // approves (named)
const DAN = 'U0DAN' as SlackUserId; // approves (through the S0SRE user group)
const CHANNEL = 'C0APPROVALS';

const POLICY = `
defaults:
  approvalChannel: ${CHANNEL}
  defaultDuration: 1h
  maxDuration: 8h
  pendingTimeout: 30m
  nudgeAfter: 10m
  approvalsRequired: 1
  reminderBefore: 5m
admins: { users: [U0ADMIN] }
resources:
  grafana:
    description: Production Grafana
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /grafana }
    approvers: { users: [U0ALICE, U0BOB, U0CAROL], usergroups: [S0SRE] }
    maxDuration: 4h
    approvalsRequired: 2
    roles:
      viewer: { methods: [GET, HEAD] }
      editor: { methods: ["*"], paths: ["/api/**"] }
`;

const silent = pino({ level: 'silent' });

/** Every string in a recorded call's blocks and text: what a person would read. */
function readable(args: Record<string, unknown>): string {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk([args.text, args.blocks]);
  return out.join('\n');
}

describe('the Slack notifier and the approval message, against real Redis and the Slack stand-in', () => {
  let t: TestRedis;
  let slack: SlackStandin;
  let store: AccessStore;
  let scheduler: JobScheduler;
  let access: AccessService;
  let sync: MessageSync;
  let notifier: SlackNotifier;
  const workers: Worker[] = [];
  /** A worker on this test's queue, carrying out jobs through `through`; closed after the test. */
  function startTestWorker(through: Notifier): void {
    workers.push(
      startWorker({
        connection: queueConnection,
        queuePrefix: t.keys.queuePrefix,
        store,
        scheduler,
        notifier: through,
        log: silent,
        reminderBeforeMs: () => 0,
      }),
    );
  }
  const queueConnection = connectRedisForQueue(REDIS_TARGET);
  const policy = loadPolicy(POLICY);

  beforeEach(async () => {
    t = await testRedis();
    slack = await startSlackStandin();
    slack.setUser(CAROL, { email: 'carol@example.com', name: 'carol' });
    slack.setUsergroup('S0SRE', [DAN]);
    // Real client, real HTTP; retries kept short so that a failing Slack gives up within the test.
    const client = new WebClient('xoxb-test', {
      slackApiUrl: slack.apiUrl,
      retryConfig: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 20 },
      logger: {
        debug() {},
        info() {},
        warn() {},
        error() {},
        setLevel() {},
        getLevel: () => 'error' as never,
        setName() {},
      },
    });
    store = new AccessStore(t.redis, { prefix: t.prefix, clock: systemClock });
    scheduler = new JobScheduler(queueConnection, t.keys.queuePrefix, systemClock);
    const people = slackPeople(client, { ttlMs: 60_000, clock: systemClock });
    access = new AccessService({
      store,
      scheduler,
      policy: () => policy,
      usergroups: people.usergroups,
      clock: systemClock,
      publicUrl: 'https://access.example.com',
    });
    sync = new MessageSync({
      client,
      store,
      scheduler,
      policy: () => policy,
      clock: systemClock,
      log: silent,
    });
    notifier = new SlackNotifier({
      client,
      store,
      policy: () => policy,
      usergroups: people.usergroups,
      sync,
      clock: systemClock,
      log: silent,
    });
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    await scheduler.queue.obliterate({ force: true });
    await scheduler.close();
    await slack.close();
    await t.cleanup();
  });
  afterAll(() => queueConnection.disconnect());

  async function filed(): Promise<AccessRequest> {
    const { request } = await access.request({
      user: CAROL,
      email: 'carol@example.com',
      resource: 'grafana',
      role: 'viewer',
      durationMs: 2 * 3_600_000,
      reason: 'INC-123 dashboards',
    });
    return request;
  }

  /** The DMs the bot sent one person: conversations.open for them, then a post into that IM. */
  async function dmsTo(user: string): Promise<string[]> {
    const opened = slack.callsTo('conversations.open').filter((c) => String(c.args.users) === user);
    const channels = new Set(
      opened.map((c) => String((c.response as { channel?: { id?: string } }).channel?.id)),
    );
    return slack
      .callsTo('chat.postMessage')
      .filter((c) => channels.has(String(c.args.channel)))
      .map((c) => readable(c.args));
  }

  it('when a request is filed, approved twice and revoked, then one message is posted and updated in place', async () => {
    const request = await filed();
    const ref = await sync.post(request);

    const [post] = slack.callsTo('chat.postMessage');
    expect(post?.args.channel).toBe(CHANNEL);
    expect(readable(post!.args)).toContain('INC-123 dashboards');
    expect(JSON.stringify(post!.args.blocks)).toContain(`"action_id":"jit_approve"`);
    expect((await store.queries.getRequest(request.id))?.message).toEqual(ref);
    // A retried delivery posts nothing new.
    expect(await sync.post((await store.queries.getRequest(request.id))!)).toEqual(ref);

    const first = await access.approve(request.id, ALICE);
    expect(await sync.refreshOrQueue(first.request)).toBe(true);
    const second = await access.approve(request.id, BOB);
    expect(await sync.refreshOrQueue(second.request)).toBe(true);
    const revoked = await access.revoke(second.request.grantId as GrantId, ALICE, 'done');
    expect(await sync.refreshOrQueue(revoked.request)).toBe(true);

    const updates = slack.callsTo('chat.update');
    expect(updates.map((u) => [u.args.channel, u.args.ts])).toEqual([
      [ref.channel, ref.ts],
      [ref.channel, ref.ts],
      [ref.channel, ref.ts],
    ]);
    expect(readable(updates[0]!.args)).toContain('1 of 2: <@U0ALICE>');
    expect(readable(updates[1]!.args)).toContain('*Expires at* <!date^');
    expect(JSON.stringify(updates[1]!.args.blocks)).toContain(`"value":"${second.request.grantId}"`);
    expect(readable(updates[2]!.args)).toContain('Revoked* by <@U0ALICE>');
    expect(JSON.stringify(updates[2]!.args.blocks)).not.toContain('jit_revoke');
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('when an extension is asked for, then it is posted in the original message’s thread', async () => {
    const request = await filed();
    const ref = await sync.post(request);
    await access.approve(request.id, ALICE);
    const granted = await access.approve(request.id, BOB);
    const ext = await access.extend(
      granted.request.grantId as GrantId,
      CAROL,
      30 * 60_000,
      'need a bit more',
    );

    const extRef = await sync.post(ext.request);
    const reply = slack.callsTo('chat.postMessage').at(-1)!;
    expect(reply.args).toMatchObject({ channel: ref.channel, thread_ts: ref.ts });
    expect(readable(reply.args)).toContain(`extension* of grant \`${granted.request.grantId}\``);
    expect(extRef.ts).not.toBe(ref.ts);
  });

  it('when the worker tells people, then each hears the right thing by DM', async () => {
    const request = await filed();
    await sync.post(request);
    const afterAlice = (await access.approve(request.id, ALICE)).request;

    await notifier.nudgeApprovers(afterAlice);
    // Not the requester (an approver here too), not Alice who approved; Bob and Dan (via S0SRE) yes.
    expect(await dmsTo(CAROL)).toEqual([]);
    expect(await dmsTo(ALICE)).toEqual([]);
    for (const user of [BOB, DAN]) {
      const [nudge] = await dmsTo(user);
      expect(nudge).toContain('waiting for your approval of grafana/viewer');
      expect(nudge).toContain('1 of 2: <@U0ALICE>');
    }

    const granted = (await access.approve(request.id, BOB)).request;
    await notifier.grantExpiringSoon({ ...granted, expiresAt: Date.now() + 5 * 60_000 });
    const revoked = await access.revoke(granted.grantId as GrantId, ALICE);
    await notifier.grantEnded(revoked.request);
    const carol = await dmsTo(CAROL);
    expect(carol[0]).toContain('Your access to grafana/viewer ends in 5m');
    expect(carol[0]).toContain(`/access extend ${granted.grantId} 1h`);
    expect(carol[1]).toContain('Your access to grafana/viewer was revoked by <@U0ALICE>');

    const other = await filed();
    await notifier.requestExpired({ ...other, status: 'expired' });
    expect((await dmsTo(CAROL))[2]).toContain('expired: no approver decided within 30m');
    expect(slack.allText()).not.toMatch(/eyJ[\w-]{5,}\.[\w-]{5,}\./);
  });

  it('when chat.update keeps failing, then the update is queued for the worker, which applies it once Slack recovers', async () => {
    const request = await filed();
    const ref = await sync.post(request);
    const approved = (await access.approve(request.id, ALICE)).request;
    slack.failNext('chat.update', { status: 500 }, 10);

    expect(await sync.refreshOrQueue(approved)).toBe(false);

    const jobId = jobIdOf({
      kind: 'notify',
      requestId: request.id,
      effect: 'refresh-message',
      state: 'pending-none-1',
    });
    const job = await scheduler.queue.getJob(jobId);
    expect(job?.data).toMatchObject({ kind: 'notify', effect: 'refresh-message', requestId: request.id });

    slack.clearFailures();
    slack.clear();
    startTestWorker(notifier);
    const update = await slack.waitFor('chat.update');
    expect(update.args).toMatchObject({ channel: ref.channel, ts: ref.ts });
    expect(readable(update.args)).toContain('1 of 2: <@U0ALICE>');
  });

  it('when a use case’s effects are delivered through the queue, then the worker carries them out in order, making the link only when it sends it', async () => {
    const withAccess = new SlackNotifier({
      client: new WebClient('xoxb-test', { slackApiUrl: slack.apiUrl }),
      store,
      access,
      policy: () => policy,
      usergroups: async () => [],
      sync,
      clock: systemClock,
      log: silent,
    });
    startTestWorker(withAccess);
    const filedOutcome = await access.request({
      user: CAROL,
      email: 'carol@example.com',
      resource: 'grafana',
      reason: 'INC-9 from the sign-in page',
    });
    await scheduler.deliver(filedOutcome);
    const post = await slack.waitFor('chat.postMessage', (c) => c.args.channel === CHANNEL);
    expect(readable(post.args)).toContain('INC-9 from the sign-in page');
    await expect
      .poll(async () => (await store.queries.getRequest(filedOutcome.request.id))?.message)
      .toBeDefined();

    await access.approve(filedOutcome.request.id, ALICE);
    const granted = await access.approve(filedOutcome.request.id, BOB);
    await scheduler.deliver(granted);
    const queued = await scheduler.queue.getJobs(['waiting', 'active', 'completed', 'delayed']);
    expect(JSON.stringify(queued.map((j) => j.data))).not.toContain('code=');
    await expect
      .poll(async () => (await dmsTo(CAROL)).join('\n'), { timeout: 10_000 })
      .toContain('/_jitgate/redeem?code=');
    const link = /https:\/\/access\.example\.com\/_jitgate\/redeem\?code=([A-Za-z0-9_-]+)/.exec(
      (await dmsTo(CAROL)).join('\n'),
    );
    expect(await store.codes.redeem(link![1]!)).toBe(granted.request.grantId);
    await expect.poll(() => slack.callsTo('chat.update').length).toBeGreaterThan(0);
  });

  it('when Slack says channel_not_found, then it is a PermanentFailure and nothing is queued', async () => {
    const request = await filed();
    await sync.post(request);
    slack.failNext('chat.update', { error: 'channel_not_found' });
    await expect(notifier.refreshApprovalMessage(request)).rejects.toBeInstanceOf(PermanentFailure);

    slack.failNext('chat.postMessage', { error: 'channel_not_found' });
    await expect(notifier.requestExpired({ ...request, status: 'expired' })).rejects.toBeInstanceOf(
      PermanentFailure,
    );

    slack.failNext('chat.update', { error: 'channel_not_found' });
    expect(await sync.refreshOrQueue(request)).toBe(false);
    expect(await scheduler.queue.getJobCountByTypes('waiting', 'delayed', 'prioritized')).toBe(
      // the request's own timeout and nudge, and no refresh job
      2,
    );
  });

  it('when people are looked up, then e-mails and user groups come from Slack once and then from the cache', async () => {
    const people = slackPeople(new WebClient('xoxb-test', { slackApiUrl: slack.apiUrl }), {
      ttlMs: 60_000,
      clock: systemClock,
    });
    expect(await people.emailOf(CAROL)).toBe('carol@example.com');
    expect(await people.emailOf(CAROL)).toBe('carol@example.com');
    expect(await people.usergroups('S0SRE')).toEqual([DAN]);
    expect(await people.usergroups('S0SRE')).toEqual([DAN]);
    expect(await people.usergroups('S0GONE')).toEqual([]);
    expect(slack.callsTo('users.info')).toHaveLength(1);
    expect(slack.callsTo('usergroups.users.list')).toHaveLength(1);
  });

  it('when a 500 is transient, then the DM is thrown as retryable, not permanent', async () => {
    const request = await filed();
    slack.failNext('chat.postMessage', { status: 500 }, 10);
    const failure = await notifier
      .requestExpired({ ...request, status: 'expired' })
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(PermanentFailure);
  });
});
