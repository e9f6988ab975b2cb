import { ErrorCode, type Logger, LogLevel, WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SlackStandin, startSlackStandin } from '../support/index.js';

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

  it('when a 429 has no Retry-After, then WebClient gives up at once; rejectRateLimitedCalls does so with the delay', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfterSec: null });
    const bare = await client.chat.postMessage({ channel: 'C1', text: 'x' }).catch((e: unknown) => e);
    expect(bare).toBeInstanceOf(Error);
    expect(String(bare)).toContain('Retry header did not contain a valid timeout');
    expect(slack.calls).toHaveLength(1);

    slack.clear();
    slack.failNext('chat.postMessage', { status: 429, retryAfterSec: 30 });
    const strict = new WebClient('xoxb-test', {
      slackApiUrl: slack.apiUrl,
      rejectRateLimitedCalls: true,
      logger: quiet,
    });
    const limited = await strict.chat.postMessage({ channel: 'C1', text: 'x' }).catch((e: unknown) => e);
    expect(limited).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 30 });
    expect(slack.calls).toHaveLength(1);
  });

  it('when failures are queued, then they happen in order, per method, and clearFailures drops the rest', async () => {
    slack.failNext('users.info', { error: 'ratelimited' });
    slack.failNext('users.info', { error: 'user_not_visible' }, 2);
    const errors: unknown[] = [];
    for (let i = 0; i < 3; i += 1)
      errors.push(await client.users.info({ user: 'U1' }).catch((e: unknown) => e));
    slack.failNext('users.info', { error: 'never_seen' }, 5);
    slack.clearFailures();

    expect(errors.map((e) => (e as { data: { error: string } }).data.error)).toEqual([
      'ratelimited',
      'user_not_visible',
      'user_not_visible',
    ]);
    expect((await client.users.info({ user: 'U1' })).ok).toBe(true);
    expect(slack.calls.map((c) => c.failed ?? false)).toEqual([true, true, true, false]);
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
