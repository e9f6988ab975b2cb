import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appHomeOpenedBody,
  blockActionsBody,
  signSlackRequest,
  slackRetryHeaders,
  slashCommandBody,
} from '../../dev/slack/requests.js';
import { BOT_TEST_POLICY, type BotHarness, requestIdIn, startBotHarness } from '../support/bot-harness.js';

/**
 * The bot's front door: request verification, idempotency under replays and Slack retries, the
 * 3-second ack, Redis being away, and the worker running inside the bot.
 */

const POLICY = `${BOT_TEST_POLICY}
  quick:
    description: Expires undecided in seconds
    upstream: http://127.0.0.1:3007
    match: { pathPrefix: /quick }
    approvers: { users: [U0ALICE] }
    pendingTimeout: 2s
    nudgeAfter: 1s
`;

let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness({ policy: POLICY });
});
afterAll(async () => h?.stop());

const nowSec = () => Math.floor(Date.now() / 1000);
const json = (body: Record<string, unknown>) => JSON.stringify(body);
/** Just the signature and timestamp, over `body`. */
const signedHeaders = (body: string) => {
  const { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp } = signSlackRequest(
    h.secret,
    body,
  );
  return { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp };
};

describe('Every request is verified', () => {
  const command = (userId: string) =>
    slashCommandBody({ userId, text: 'grafana 1h INC-1', responseUrl: h.standin.responseUrl(userId) });

  it.each([
    ['a wrong signature', { signature: `v0=${'0'.repeat(64)}` }],
    ['a signature made with another secret', { secret: 'not-the-secret' }],
    ['a stale timestamp (6 minutes ago)', { timestampSec: nowSec() - 360 }],
    ['a timestamp from the future (6 minutes ahead)', { timestampSec: nowSec() + 360 }],
    ['no signature at all', { headers: { 'x-slack-signature': '' } }],
  ])(
    'when a command arrives with %s, then it is refused with 401 and nothing happens',
    async (_what, tamper) => {
      const before = await h.requestKeys();
      const callsBefore = h.standin.calls.length;
      const res = await h.send({ body: command('U0OSCAR'), ...tamper });
      expect(res.status).toBe(401);
      expect(await h.requestKeys()).toEqual(before);
      await h.bot.idle();
      expect(h.standin.calls.length).toBe(callsBefore);
    },
  );

  it('when the timestamp is 4 minutes ahead (clock skew within 5 minutes), then it is accepted', async () => {
    const body = slashCommandBody({
      userId: 'U0OSCAR',
      text: 'list',
      responseUrl: h.standin.responseUrl('skew'),
    });
    const res = await h.send({ body, timestampSec: nowSec() + 240 });
    expect(res.status).toBe(200);
    await h.standin.waitFor('response_url', (c) => c.path.endsWith('/skew'));
  });

  it('when the body was changed after signing, then it is refused', async () => {
    const body = command('U0OSCAR');
    const signedFor = body.replace('INC-1', 'INC-2');
    const res = await fetch(`${h.baseUrl}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...signedHeaders(signedFor) },
      body,
    });
    expect(res.status).toBe(401);
  });

  it('answers its health check and nothing else outside /slack/events', async () => {
    expect((await fetch(`${h.baseUrl}/_jitgate/healthz`)).status).toBe(200);
    expect((await fetch(`${h.baseUrl}/anything`)).status).toBe(404);
  });
});

describe('A delivery changes things once', () => {
  it('when the same signed command is sent twice, then one request is filed and one approval message posted', async () => {
    const body = slashCommandBody({
      userId: 'U0PAM',
      text: 'grafana 1h INC-800 replay',
      responseUrl: h.standin.responseUrl('replay'),
    });
    const before = (await h.requestKeys()).length;
    const first = await h.send({ body });
    const second = await h.send({ body });
    expect([first.status, second.status]).toEqual([200, 200]);
    const reply = await h.standin.waitFor('response_url', (c) => c.path.endsWith('/replay'));
    const requestId = requestIdIn(String(reply.body.text));
    await h.bot.idle();
    expect(h.standin.callsTo('response_url').filter((c) => c.path.endsWith('/replay'))).toHaveLength(1);
    expect((await h.requestKeys()).length - before).toBe(1);
    expect(
      h.standin.callsTo('chat.postMessage').filter((c) => json(c.body).includes(requestId)),
    ).toHaveLength(1);
  });

  it('when Slack retries a command delivery (x-slack-retry-num), then the retry changes nothing', async () => {
    const body = slashCommandBody({
      userId: 'U0PAM',
      text: 'grafana 1h INC-801 retried',
      responseUrl: h.standin.responseUrl('retried'),
    });
    await h.send({ body });
    await h.standin.waitFor('response_url', (c) => c.path.endsWith('/retried'));
    const res = await h.send({ body, headers: slackRetryHeaders(1) });
    expect(res.status).toBe(200);
    await h.bot.idle();
    expect(h.standin.callsTo('response_url').filter((c) => c.path.endsWith('/retried'))).toHaveLength(1);
  });

  it('when Slack retries app_home_opened, then App Home is published once', async () => {
    const body = appHomeOpenedBody({ userId: 'U0QUINN', eventId: 'Ev0RETRY01' });
    await h.send({ body });
    await h.send({ body, headers: slackRetryHeaders(1, 'http_timeout') });
    await h.send({ body, headers: slackRetryHeaders(2, 'http_timeout') });
    await h.standin.waitFor('views.publish', (c) => c.body.user_id === 'U0QUINN');
    await h.bot.idle();
    expect(h.standin.callsTo('views.publish').filter((c) => c.body.user_id === 'U0QUINN')).toHaveLength(1);
  });

  it('when the same approve click is replayed, then it counts once', async () => {
    const { requestId } = await h.fileRequest('U0RITA', 'db 1h INC-802');
    const body = blockActionsBody({
      userId: 'U0ALICE',
      actionId: 'jit_approve',
      value: requestId,
      messageTs: '1700000000.000100',
    });
    await h.send({ body });
    await h.send({ body, headers: slackRetryHeaders(1) });
    await h.waitForEphemeral('U0ALICE', /1 of 2/);
    await h.bot.idle();
    expect(h.ephemeralsTo('U0ALICE').filter((t) => t.includes('1 of 2'))).toHaveLength(1);
    expect(h.ephemeralsTo('U0ALICE').some((t) => /already approved/.test(t))).toBe(false);
    expect((await h.deps.store.queries.getRequest(requestId))?.approvals).toEqual(['U0ALICE']);
  });
});

describe('The ack comes first', () => {
  it('when Slack answers slowly, then commands and clicks are still acknowledged at once and answered later', async () => {
    const { requestId } = await h.fileRequest('U0SAM', 'grafana 1h INC-900');
    h.standin.setLatency(1500);
    try {
      let started = Date.now();
      // Someone else's: one person has one undecided request per resource.
      const cmd = await h.command('U0SAMB', 'grafana 1h INC-901 slow slack');
      expect(cmd.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(1000);

      started = Date.now();
      const click = await h.click('U0ALICE', 'jit_approve', requestId);
      expect(click.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(1000);

      expect(await cmd.reply(10_000)).toMatch(/Asked for 1h of/);
      await h.waitForDm('U0SAM', /_jitgate\/redeem/, 10_000);
    } finally {
      h.standin.setLatency(0);
    }
  });
});

describe('The worker runs in the bot', () => {
  it('when nobody decides in time, then the request expires, its message says so and the requester is told', async () => {
    const { requestId } = await h.fileRequest('U0TOM', 'quick 1h INC-1000');
    await h.waitForDm('U0TOM', /expired/, 8000);
    expect((await h.deps.store.queries.getRequest(requestId))?.status).toBe('expired');
    await expect
      .poll(async () => json((await h.approvalMessage(requestId))!.body), { timeout: 5000 })
      .toMatch(/Expired undecided/);
  });
});

describe('Redis is away', () => {
  it('when the store cannot be reached, then commands and clicks say so, and nothing was changed', async () => {
    const { requestId } = await h.fileRequest('U0UMA', 'grafana 1h INC-1100');
    // The connection is gone once ioredis says 'end' (the socket closed), not when disconnect()
    // returns: reconnecting before that would be refused as "already connected" and then dropped.
    const ended = new Promise<void>((resolve) => h.redis.once('end', () => resolve()));
    h.redis.disconnect();
    await ended;
    try {
      const reply = await (await h.command('U0UMA', 'grafana 1h INC-1101')).reply();
      expect(reply).toMatch(/cannot reach its state store/);
      expect(reply).toMatch(/Nothing was changed/);

      await h.click('U0ALICE', 'jit_approve', requestId);
      const ephemeral = await h.waitForEphemeral('U0ALICE', /cannot reach its state store/);
      expect(ephemeral).toMatch(/Nothing was changed/);

      // Bad input needs no store and is still answered at once.
      expect((await h.command('U0UMA', 'grafana soon x')).ack).toMatch(/not a duration/);
    } finally {
      await h.redis.connect();
    }
    expect((await h.deps.store.queries.getRequest(requestId))?.status).toBe('pending');
  });
});
