import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, type BlockAction, type ButtonAction, isValidSlackRequest, LogLevel } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import {
  appHomeOpenedBody,
  blockActionsBody,
  sendToBot,
  signSlackRequest,
  slackRetryHeaders,
  slashCommandBody,
  startSlackStandin,
  viewSubmissionBody,
} from '../support/index.js';

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

describe('a Bolt app fed these requests, talking to the stand-in', () => {
  const secret = 'bolt-signing-secret';

  it('when Slack-shaped requests reach Bolt, then it verifies and acks them, and respond() and its client land in the stand-in', async () => {
    const slack = await startSlackStandin();
    const app = new App({
      signingSecret: secret,
      token: 'xoxb-bolt',
      clientOptions: { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } },
      logLevel: LogLevel.ERROR,
    });
    const submitted: string[] = [];
    app.command('/access', async ({ ack, command, respond }) => {
      await ack();
      await respond({ response_type: 'ephemeral', text: `heard ${command.text} from ${command.user_id}` });
    });
    app.action<BlockAction<ButtonAction>>('jit_approve', async ({ ack, action, body, respond }) => {
      await ack();
      await respond({ replace_original: true, text: `approved ${action.value} by ${body.user.id}` });
    });
    app.view('jit_request', async ({ ack, view }) => {
      submitted.push(
        view.state.values.resource?.resource?.selected_option?.value ?? 'none',
        view.private_metadata,
      );
      await ack();
    });
    app.event('app_home_opened', async ({ event, client }) => {
      await client.views.publish({ user_id: event.user, view: { type: 'home', blocks: [] } });
    });
    const server = await app.start({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const command = slashCommandBody({
        text: 'list',
        userId: 'U0CAROL',
        responseUrl: slack.responseUrl('cmd'),
      });
      expect((await sendToBot(base, { body: command, secret })).status).toBe(200);
      const heard = await slack.waitFor('response_url', (c) => c.path === '/respond/cmd');
      expect(heard.body).toMatchObject({ response_type: 'ephemeral', text: 'heard list from U0CAROL' });

      const click = blockActionsBody({
        userId: 'U0ALICE',
        actionId: 'jit_approve',
        value: 'req-1',
        messageTs: '1700000000.000100',
        responseUrl: slack.responseUrl('click'),
      });
      expect((await sendToBot(base, { body: click, secret })).status).toBe(200);
      const approved = await slack.waitFor('response_url', (c) => c.path === '/respond/click');
      expect(approved.body).toMatchObject({ replace_original: true, text: 'approved req-1 by U0ALICE' });

      const form = viewSubmissionBody({
        userId: 'U0CAROL',
        callbackId: 'jit_request',
        privateMetadata: 'meta',
        values: { resource: { resource: { selected: 'grafana' } } },
      });
      expect((await sendToBot(base, { body: form, secret })).status).toBe(200);
      expect(submitted).toEqual(['grafana', 'meta']);

      expect((await sendToBot(base, { body: appHomeOpenedBody({ userId: 'U0CAROL' }), secret })).status).toBe(
        200,
      );
      const home = await slack.waitFor('views.publish');
      expect(home).toMatchObject({
        token: 'xoxb-bolt',
        body: { user_id: 'U0CAROL', view: { type: 'home' } },
      });

      const stale = await sendToBot(base, {
        body: command,
        secret,
        timestampSec: Math.floor(Date.now() / 1000) - 600,
      });
      const forged = await sendToBot(base, { body: command, secret, signature: 'v0=00' });
      const wrongSecret = await sendToBot(base, { body: command, secret: 'not-the-secret' });
      expect([stale.status, forged.status, wrongSecret.status]).toEqual([401, 401, 401]);
      expect(slack.callsTo('response_url')).toHaveLength(2);
    } finally {
      await app.stop();
      await slack.close();
    }
  });
});
