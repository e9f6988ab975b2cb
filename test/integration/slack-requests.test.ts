import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  App,
  type BlockAction,
  type ButtonAction,
  HTTPReceiver,
  isValidSlackRequest,
  LogLevel,
} from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
} from '../../dev/slack/index.js';

const secret = 'test-signing-secret';

const quiet = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => LogLevel.ERROR,
  setName() {},
};

function payloadOf(body: string): Record<string, unknown> {
  return JSON.parse(new URLSearchParams(body).get('payload')!) as Record<string, unknown>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
}

describe('requests as Slack sends them to the bot', () => {
  it('when a body is signed, then the signature matches an independent recomputation and Bolt’s check', () => {
    const body = slashCommandBody({ text: 'grafana 2h INC-1', userId: 'U0CAROL' });
    const headers = signSlackRequest(secret, body, 1_700_000_123);

    const expected = createHmac('sha256', secret).update(`v0:1700000123:${body}`).digest('hex');
    expect(headers).toEqual({
      'x-slack-signature': `v0=${expected}`,
      'x-slack-request-timestamp': '1700000123',
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(signSlackRequest(secret, appHomeOpenedBody({ userId: 'U0A' }))['content-type']).toBe(
      'application/json',
    );
    const now = signSlackRequest(secret, body);
    const verify = (s: string, signed = body) =>
      isValidSlackRequest({
        signingSecret: s,
        body: signed,
        headers: {
          'x-slack-signature': now['x-slack-signature'],
          'x-slack-request-timestamp': Number(now['x-slack-request-timestamp']),
        },
      });
    expect(verify(secret)).toBe(true);
    expect(verify('another-secret')).toBe(false);
    expect(verify(secret, `${body}&x=1`)).toBe(false);
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
    expect([...form.keys()].sort()).toEqual(
      [
        'api_app_id',
        'channel_id',
        'channel_name',
        'command',
        'is_enterprise_install',
        'response_url',
        'team_domain',
        'team_id',
        'text',
        'token',
        'trigger_id',
        'user_id',
        'user_name',
      ].sort(),
    );
    expect(Object.fromEntries(form)).toMatchObject({
      command: '/access',
      text: 'list',
      user_id: 'U0CAROL',
      user_name: 'u0carol',
      team_id: 'T0TEAM',
      channel_id: 'C0GENERAL',
      response_url: 'http://x/respond/1',
      trigger_id: 't1',
    });
  });

  it('when a button click is built, then its block_actions payload is shaped like Slack’s', () => {
    const click = payloadOf(
      blockActionsBody({
        userId: 'U0ALICE',
        actionId: 'jit_approve',
        value: 'req-1',
        messageTs: '1700000000.000100',
      }),
    );
    expect(click).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0ALICE', username: 'u0alice', team_id: 'T0TEAM' },
      team: { id: 'T0TEAM' },
      container: { type: 'message', message_ts: '1700000000.000100', channel_id: 'C0APPROVALS' },
      channel: { id: 'C0APPROVALS' },
      message: { ts: '1700000000.000100' },
      actions: [{ action_id: 'jit_approve', value: 'req-1', type: 'button', block_id: expect.any(String) }],
      response_url: expect.any(String),
    });

    const home = payloadOf(
      blockActionsBody({ userId: 'U0A', actionId: 'jit_revoke', value: 'g', view: 'V1' }),
    );
    expect(home).toMatchObject({
      container: { type: 'view', view_id: 'V1' },
      view: { id: 'V1', type: 'home' },
    });
    expect(home.message).toBeUndefined();
    expect(home.response_url).toBeUndefined();

    const inModal = payloadOf(
      blockActionsBody({
        userId: 'U0A',
        actionId: 'jit_cancel',
        value: 'r',
        view: { id: 'V2', type: 'modal', callbackId: 'jit_request' },
        channel: 'D0A',
      }),
    );
    expect(inModal).toMatchObject({
      view: { id: 'V2', type: 'modal', callback_id: 'jit_request' },
      channel: { id: 'D0A', name: 'directmessage' },
    });
  });

  it('when a form submission is built, then view.state.values is shaped like Slack’s', () => {
    const submitted = payloadOf(
      viewSubmissionBody({
        userId: 'U0CAROL',
        callbackId: 'jit_request',
        privateMetadata: '{"channel":"C1"}',
        values: {
          resource: { resource: { selected: 'grafana' } },
          reason: { reason: 'INC-1' },
          note: { note: null },
          who: { who: { type: 'users_select', selected_user: 'U0BOB' } },
        },
      }),
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
            note: { note: { type: 'plain_text_input', value: null } },
            who: { who: { type: 'users_select', selected_user: 'U0BOB' } },
          },
        },
      },
    });
  });

  it('when a body is sent to the bot, then it arrives signed at /slack/events with the right content type', async () => {
    const seen: { url: string; headers: IncomingHttpHeaders; body: string }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.end('');
      });
    });
    const base = await listen(server);
    try {
      const event = appHomeOpenedBody({ userId: 'U0CAROL' });
      await sendToBot(`${base}/`, { body: event, secret, headers: slackRetryHeaders(1, 'http_timeout') });
      await sendToBot(`${base}/slack/events`, { body: 'a=b', secret, timestampSec: 1, signature: 'v0=bad' });

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
      const sig = first!.headers;
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
      expect(second).toMatchObject({
        url: '/slack/events',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-signature': 'v0=bad',
          'x-slack-request-timestamp': '1',
        },
      });
    } finally {
      await stop(server);
    }
  });
});

describe('a real Bolt app between the signed requests and the stand-in', () => {
  let slack: SlackStandin;
  let server: Server;
  let bot: string;
  const submitted: unknown[] = [];
  /** Deliveries that got past verification into the app (a global middleware counts them). */
  let dispatched = 0;

  beforeAll(async () => {
    slack = await startSlackStandin();
    const receiver = new HTTPReceiver({ signingSecret: secret, endpoints: ['/slack/events'], logger: quiet });
    const app = new App({
      receiver,
      token: 'xoxb-bolt',
      logger: quiet,
      clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } },
    });
    app.use(async ({ next }) => {
      dispatched += 1;
      await next();
    });
    app.command('/access', async ({ ack, respond, client, command }) => {
      await ack();
      await respond({ response_type: 'ephemeral', text: `asked: ${command.text}` });
      await client.chat.postMessage({ channel: command.user_id, text: 'filed' });
    });
    app.action<BlockAction<ButtonAction>>('jit_approve', async ({ ack, body, client, action, respond }) => {
      await ack();
      await respond({ replace_original: false, text: `approving ${action.value} for ${body.user.id}` });
      await client.chat.update({
        channel: body.channel!.id,
        ts: body.message!.ts,
        text: `approved ${action.value}`,
      });
    });
    app.view('jit_request', async ({ ack, view }) => {
      await ack();
      submitted.push(view.state.values);
    });
    app.event('app_home_opened', async ({ event, client }) => {
      await client.views.publish({ user_id: event.user, view: { type: 'home', blocks: [] } });
    });
    server = createServer(receiver.requestListener);
    bot = await listen(server);
  });
  afterAll(async () => {
    await stop(server);
    await slack.close();
  });

  it('when a signed slash command arrives, then Bolt acks, responds to the response URL, and posts via the stand-in', async () => {
    const body = slashCommandBody({
      text: 'grafana 2h INC-1',
      userId: 'U0CAROL',
      responseUrl: slack.responseUrl('c1'),
    });

    const res = await sendToBot(bot, { body, secret });

    expect(res.status).toBe(200);
    const reply = await slack.waitFor('response_url');
    expect(reply).toMatchObject({
      path: '/respond/c1',
      body: { response_type: 'ephemeral', text: 'asked: grafana 2h INC-1' },
    });
    expect(await slack.waitFor('chat.postMessage', (c) => c.body.channel === 'U0CAROL')).toMatchObject({
      token: 'xoxb-bolt',
      response: { channel: 'D0CAROL' },
    });
    // Bolt checked its token with auth.test at start, through clientOptions.slackApiUrl too.
    expect(slack.callsTo('auth.test')[0]?.token).toBe('xoxb-bolt');
  });

  it('when a click, a submission and an App Home event arrive, then Bolt parses each as Slack’s', async () => {
    const click = blockActionsBody({
      userId: 'U0ALICE',
      actionId: 'jit_approve',
      value: 'req-9',
      messageTs: '1.2',
      responseUrl: slack.responseUrl('click'),
    });
    const form = viewSubmissionBody({
      userId: 'U0CAROL',
      callbackId: 'jit_request',
      values: { r: { r: 'why' } },
    });

    expect((await sendToBot(bot, { body: click, secret })).status).toBe(200);
    expect((await sendToBot(bot, { body: form, secret })).status).toBe(200);
    expect((await sendToBot(bot, { body: appHomeOpenedBody({ userId: 'U0CAROL' }), secret })).status).toBe(
      200,
    );

    expect((await slack.waitFor('chat.update')).body).toMatchObject({
      channel: 'C0APPROVALS',
      ts: '1.2',
      text: 'approved req-9',
    });
    expect((await slack.waitFor('views.publish')).body).toMatchObject({
      user_id: 'U0CAROL',
      view: { type: 'home' },
    });
    expect((await slack.waitFor('response_url', (c) => c.path === '/respond/click')).body).toMatchObject({
      text: 'approving req-9 for U0ALICE',
    });
    expect(submitted).toContainEqual({ r: { r: { type: 'plain_text_input', value: 'why' } } });
  });

  it('when the signature is wrong or the timestamp stale, then Bolt refuses and nothing reaches Slack', async () => {
    slack.clear();
    const dispatchedBefore = dispatched;
    const body = slashCommandBody({ text: 'list', userId: 'U0CAROL', responseUrl: slack.responseUrl('c2') });

    const forged = await sendToBot(bot, { body, secret, signature: `v0=${'0'.repeat(64)}` });
    const stale = await sendToBot(bot, {
      body,
      secret,
      timestampSec: Math.floor(Date.now() / 1000) - 6 * 60,
    });
    const wrongSecret = await sendToBot(bot, { body, secret: 'not-the-secret' });

    expect([forged.status, stale.status, wrongSecret.status]).toEqual([401, 401, 401]);
    // Bolt verifies before it dispatches: a 401 answered means the app never saw the delivery.
    expect(dispatched).toBe(dispatchedBefore);
    expect(slack.calls).toEqual([]);
  });
});
