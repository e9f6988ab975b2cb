import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isValidSlackRequest } from '@slack/bolt';
import { ErrorCode, type Logger, LogLevel, WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  appHomeOpenedBody,
  blockActionsBody,
  type SlackStandin,
  sendToBot,
  signSlackRequest,
  slackRetryHeaders,
  slashCommandBody,
  startSlackStandin,
  viewSubmissionBody,
} from '../support/index.js';

const quiet: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => LogLevel.ERROR,
  setName() {},
};

/** A real WebClient as the bot builds it, with retries short enough for a test. */
function clientFor(standin: SlackStandin, token = 'xoxb-test'): WebClient {
  return new WebClient(token, {
    slackApiUrl: standin.apiUrl,
    retryConfig: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 50 },
    logger: quiet,
  });
}

const approveBlocks = [
  { type: 'section', text: { type: 'mrkdwn', text: '*grafana* for 2h' } },
  { type: 'actions', elements: [{ type: 'button', action_id: 'jit_approve', value: 'req-1' }] },
];

describe('the Slack Web API stand-in, driven by a real WebClient', () => {
  let slack: SlackStandin;
  let client: WebClient;

  beforeEach(async () => {
    slack = await startSlackStandin();
    client = clientFor(slack);
  });
  afterEach(async () => {
    await slack.close();
  });

  it('when a message is posted then updated, then both are recorded with their blocks parsed', async () => {
    const posted = await client.chat.postMessage({
      channel: 'C0APPROVALS',
      text: 'asks',
      blocks: approveBlocks,
    });
    const again = await client.chat.postMessage({
      channel: 'C0APPROVALS',
      text: 'second',
      unfurl_links: false,
    });
    await client.chat.update({ channel: 'C0APPROVALS', ts: posted.ts!, text: 'approved', blocks: [] });

    expect(posted).toMatchObject({ ok: true, channel: 'C0APPROVALS', ts: '1700000000.000100' });
    expect(posted.message).toMatchObject({ text: 'asks', bot_id: 'B0JITGATE', ts: posted.ts });
    expect(Number(again.ts)).toBeGreaterThan(Number(posted.ts));
    const [post, second] = slack.callsTo('chat.postMessage');
    expect(post).toMatchObject({
      token: 'xoxb-test',
      status: 200,
      body: { channel: 'C0APPROVALS', text: 'asks' },
    });
    expect(post?.body.blocks).toEqual(approveBlocks);
    expect(post?.args).toBe(post?.body);
    expect(second?.body.unfurl_links).toBe(false);
    const [update] = slack.callsTo('chat.update');
    expect(update?.body).toMatchObject({
      channel: 'C0APPROVALS',
      ts: posted.ts,
      text: 'approved',
      blocks: [],
    });
    expect(slack.allText()).toContain('jit_approve');
    expect(slack.allText()).not.toContain('xoxb-test');
  });

  it('when Slack rate-limits once with Retry-After 1, then WebClient waits, retries, and succeeds', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfterSec: 1 });
    const started = Date.now();

    const posted = await client.chat.postMessage({ channel: 'C0APPROVALS', text: 'hello' });

    expect(posted.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const attempts = slack.calls.filter((c) => c.method === 'chat.postMessage');
    expect(attempts.map((c) => [c.status, c.failed ?? false])).toEqual([
      [429, true],
      [200, false],
    ]);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('when Slack answers 5xx, then WebClient retries it, and gives up with an HTTP error after the retries', async () => {
    slack.failNext('chat.update', { status: 503 });
    await client.chat.update({ channel: 'C1', ts: '1.2', text: 'x' });
    expect(slack.calls.map((c) => c.status)).toEqual([503, 200]);

    slack.clear();
    slack.failNext('chat.update', { status: 500 }, 10);
    const err = await client.chat.update({ channel: 'C1', ts: '1.2', text: 'x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.HTTPError, statusCode: 500 });
    expect(slack.calls).toHaveLength(3); // the first try and retries: 2
  });

  it('when Slack answers ok:false, then WebClient throws a platform error at once, without retrying', async () => {
    slack.failNext('chat.postMessage', { error: 'channel_not_found' });

    const err = await client.chat.postMessage({ channel: 'C0GONE', text: 'x' }).catch((e: unknown) => e);

    expect(err).toMatchObject({
      code: ErrorCode.PlatformError,
      data: { ok: false, error: 'channel_not_found' },
    });
    expect(slack.calls).toHaveLength(1);
    expect(slack.calls[0]).toMatchObject({ failed: true, status: 200 });
    expect(slack.callsTo('chat.postMessage')).toEqual([]);
  });

  it('when a call comes later, then waitFor resolves with it; when none comes, it says what was recorded', async () => {
    await client.chat.postMessage({ channel: 'C1', text: 'first' });
    setTimeout(() => void client.chat.postMessage({ channel: 'D0BOB', text: 'for bob' }), 50);

    const dm = await slack.waitFor('chat.postMessage', (c) => c.body.channel === 'D0BOB');
    expect(dm.body.text).toBe('for bob');
    expect((await slack.waitFor('chat.postMessage')).body.text).toBe('first');

    slack.failNext('chat.update', { error: 'message_not_found' });
    await client.chat.update({ channel: 'C1', ts: '1.2', text: 'x' }).catch(() => {});
    await expect(slack.waitFor('chat.update', undefined, 100)).rejects.toThrow(
      /no successful chat.update .*within 100 ms; recorded: chat.postMessage, chat.postMessage, chat.update \(failed: 200 message_not_found\)/,
    );
  });

  it('when people and user groups are configured, then users.info and usergroups.users.list answer with them', async () => {
    slack.setUser('U0CAROL', { email: 'carol@corp.example', name: 'carol', tz: 'Asia/Tokyo' });
    slack.setUsergroup('S0SRE', ['U0DAN', 'U0ERIN']);

    const carol = await client.users.info({ user: 'U0CAROL' });
    const other = await client.users.info({ user: 'U0ZED' });
    const sre = await client.usergroups.users.list({ usergroup: 'S0SRE' });
    const missing = await client.usergroups.users.list({ usergroup: 'S0NONE' }).catch((e: unknown) => e);

    expect(carol.user).toMatchObject({
      id: 'U0CAROL',
      name: 'carol',
      tz: 'Asia/Tokyo',
      tz_offset: 9 * 3600,
      profile: { email: 'carol@corp.example' },
    });
    expect(other.user).toMatchObject({ id: 'U0ZED', name: 'u0zed', profile: { email: 'u0zed@example.com' } });
    expect(sre.users).toEqual(['U0DAN', 'U0ERIN']);
    expect(missing).toMatchObject({ data: { error: 'no_such_subteam' } });
  });

  it('when strictUsers is set, then an unknown user is user_not_found', async () => {
    const strict = await startSlackStandin({ strictUsers: true, botUserId: 'U0BOT' });
    try {
      const err = await clientFor(strict)
        .users.info({ user: 'U0ZED' })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ data: { error: 'user_not_found' } });
      expect(await clientFor(strict).auth.test()).toMatchObject({ user_id: 'U0BOT', team_id: 'T0TEAM' });
    } finally {
      await strict.close();
    }
  });

  it('when the bot opens DMs, views and ephemerals, then each answers in Slack’s shape', async () => {
    const im = await client.conversations.open({ users: 'U0CAROL' });
    const eph = await client.chat.postEphemeral({ channel: 'C1', user: 'U0CAROL', text: 'nope' });
    const view = {
      type: 'modal' as const,
      title: { type: 'plain_text' as const, text: 'Access' },
      blocks: [],
    };
    const opened = await client.views.open({ trigger_id: '1.2.3', view });
    const updated = await client.views.update({ view_id: opened.view!.id!, view });
    const home = await client.views.publish({ user_id: 'U0CAROL', view: { type: 'home', blocks: [] } });
    const me = await client.auth.test();
    const deleted = await client.chat.delete({ channel: 'C1', ts: eph.message_ts! });
    const unknown = await client.apiCall('chat.scheduleMessage', { channel: 'C1' }).catch((e: unknown) => e);

    expect(im.channel?.id).toBe('D0CAROL');
    expect(eph.message_ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(opened.view?.id).toMatch(/^V/);
    expect(updated.view?.id).toBe(opened.view?.id);
    expect(home.view).toMatchObject({ type: 'home' });
    expect(me).toMatchObject({ ok: true, user_id: 'U0JITGATE', team_id: 'T0TEAM', bot_id: 'B0JITGATE' });
    expect(deleted).toMatchObject({ ok: true, channel: 'C1', ts: eph.message_ts });
    expect(unknown).toMatchObject({ data: { error: 'unknown_method' } });
    expect(slack.callsTo('views.open')[0]?.body.view).toEqual(view);
    expect(slack.calls.at(-1)).toMatchObject({ method: 'chat.scheduleMessage', failed: true });
  });

  it('when something POSTs to a response URL, then it is recorded as response_url', async () => {
    const url = slack.responseUrl('cmd-1');
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', text: 'Unknown resource' }),
    });

    expect(await res.json()).toEqual({ ok: true });
    const [call] = slack.callsTo('response_url');
    expect(call).toMatchObject({
      path: '/respond/cmd-1',
      body: { response_type: 'ephemeral', text: 'Unknown resource' },
    });
  });

  it('when latency is set, then answers wait that long', async () => {
    slack.setLatency(150);
    const started = Date.now();
    await client.auth.test();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('requests as Slack sends them to the bot', () => {
  const secret = 'test-signing-secret';

  it('when a body is signed, then the signature matches an independent recomputation and Bolt’s check', () => {
    const body = slashCommandBody({ text: 'grafana 2h INC-1', userId: 'U0CAROL' });
    const headers = signSlackRequest(secret, body, 1_700_000_123);

    const expected = createHmac('sha256', secret).update(`v0:1700000123:${body}`).digest('hex');
    expect(headers).toEqual({
      'x-slack-signature': `v0=${expected}`,
      'x-slack-request-timestamp': '1700000123',
    });
    const now = signSlackRequest(secret, body);
    const verify = (s: string) =>
      isValidSlackRequest({
        signingSecret: s,
        body,
        headers: {
          'x-slack-signature': now['x-slack-signature'],
          'x-slack-request-timestamp': Number(now['x-slack-request-timestamp']),
        },
      });
    expect(verify(secret)).toBe(true);
    expect(verify('another-secret')).toBe(false);
  });

  it('when a slash command body is built, then it carries every field Slack sends', () => {
    const form = new URLSearchParams(
      slashCommandBody({
        text: 'list',
        userId: 'U0CAROL',
        responseUrl: 'http://x/respond/1',
        triggerId: 't1',
      }),
    );
    expect([...form.keys()]).toEqual(
      expect.arrayContaining([
        'token',
        'team_id',
        'team_domain',
        'channel_id',
        'channel_name',
        'user_id',
        'user_name',
        'command',
        'text',
        'api_app_id',
        'response_url',
        'trigger_id',
      ]),
    );
    expect(Object.fromEntries(form)).toMatchObject({
      command: '/access',
      text: 'list',
      user_id: 'U0CAROL',
      user_name: 'u0carol',
      team_id: 'T0TEAM',
      response_url: 'http://x/respond/1',
      trigger_id: 't1',
    });
  });

  it('when a button click or a form submission is built, then its payload is shaped like Slack’s', () => {
    const click = JSON.parse(
      new URLSearchParams(
        blockActionsBody({
          userId: 'U0ALICE',
          actionId: 'jit_approve',
          value: 'req-1',
          messageTs: '1700000000.000100',
        }),
      ).get('payload')!,
    );
    expect(click).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0ALICE', username: 'u0alice', team_id: 'T0TEAM' },
      container: { type: 'message', message_ts: '1700000000.000100', channel_id: 'C0APPROVALS' },
      channel: { id: 'C0APPROVALS' },
      message: { ts: '1700000000.000100' },
      actions: [{ action_id: 'jit_approve', value: 'req-1', type: 'button' }],
    });
    expect(click.response_url).toEqual(expect.any(String));

    const home = JSON.parse(
      new URLSearchParams(
        blockActionsBody({ userId: 'U0A', actionId: 'jit_revoke', value: 'g', viewId: 'V1' }),
      ).get('payload')!,
    );
    expect(home).toMatchObject({
      container: { type: 'view', view_id: 'V1' },
      view: { id: 'V1', type: 'home' },
    });
    expect(home.message).toBeUndefined();

    const submitted = JSON.parse(
      new URLSearchParams(
        viewSubmissionBody({
          userId: 'U0CAROL',
          callbackId: 'jit_request',
          privateMetadata: '{"channel":"C1"}',
          values: { resource: { resource: { selected: 'grafana' } }, reason: { reason: 'INC-1' } },
        }),
      ).get('payload')!,
    );
    expect(submitted).toMatchObject({
      type: 'view_submission',
      user: { id: 'U0CAROL' },
      view: {
        callback_id: 'jit_request',
        private_metadata: '{"channel":"C1"}',
        state: {
          values: {
            resource: { resource: { type: 'static_select', selected_option: { value: 'grafana' } } },
            reason: { reason: { type: 'plain_text_input', value: 'INC-1' } },
          },
        },
      },
    });
  });

  it('when a body is sent to the bot, then it arrives signed at /slack/events with the right content type', async () => {
    const seen: { url?: string; headers?: IncomingHttpHeaders; body?: string }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.end('');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const event = appHomeOpenedBody({ userId: 'U0CAROL' });
      await sendToBot(base, { body: event, secret, headers: slackRetryHeaders(1) });
      await sendToBot(base, { body: 'a=b', secret, timestampSec: 1, signature: 'v0=bad' });

      const [first, second] = seen;
      expect(first).toMatchObject({
        url: '/slack/events',
        body: event,
        headers: {
          'content-type': 'application/json',
          'x-slack-retry-num': '1',
          'x-slack-retry-reason': 'http_timeout',
        },
      });
      const sig = first!.headers!;
      expect(
        isValidSlackRequest({
          signingSecret: secret,
          body: event,
          headers: {
            'x-slack-signature': String(sig['x-slack-signature']),
            'x-slack-request-timestamp': Number(sig['x-slack-request-timestamp']),
          },
        }),
      ).toBe(true);
      expect(JSON.parse(event)).toMatchObject({
        type: 'event_callback',
        event: { type: 'app_home_opened', user: 'U0CAROL', tab: 'home' },
      });
      expect(second?.headers).toMatchObject({
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-signature': 'v0=bad',
        'x-slack-request-timestamp': '1',
      });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
