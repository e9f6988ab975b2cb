import { ErrorCode, type Logger, LogLevel, WebClient, type WebClientOptions } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SlackStandin, startSlackStandin } from '../../dev/slack/index.js';

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
function clientFor(standin: SlackStandin, options: WebClientOptions = {}, token = 'xoxb-test'): WebClient {
  return new WebClient(token, {
    slackApiUrl: standin.apiUrl,
    retryConfig: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 50 },
    logger: quiet,
    ...options,
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

    expect(slack.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
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
    expect(post?.at).toBeLessThanOrEqual(Date.now());
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

  it('when a call carries its own token, then the token is recorded but kept out of the body', async () => {
    const posted = await client.chat.postMessage({ channel: 'U0BOB', text: 'for bob', token: 'xoxb-other' });

    expect(posted.channel).toBe('D0BOB'); // posting to a user id posts into the IM with them
    expect(slack.calls[0]).toMatchObject({
      token: 'xoxb-other',
      body: { channel: 'U0BOB', text: 'for bob' },
    });
    expect(slack.allText()).not.toContain('xoxb-');
  });

  it('when Slack rate-limits once with Retry-After 1, then WebClient waits, retries, and succeeds', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfterSec: 1 });
    const started = Date.now();

    const posted = await client.chat.postMessage({ channel: 'C0APPROVALS', text: 'hello' });

    expect(posted.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(slack.attemptsTo('chat.postMessage').map((c) => [c.status, c.failed ?? false])).toEqual([
      [429, true],
      [200, false],
    ]);
    expect(slack.calls[0]?.response).toEqual({ ok: false, error: 'ratelimited' });
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('when rate limits outlast the retries, then WebClient throws a request error, not a rate-limited one', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfterSec: 0 }, 10);

    const err = await client.chat.postMessage({ channel: 'C1', text: 'x' }).catch((e: unknown) => e);

    expect(err).toMatchObject({
      code: ErrorCode.RequestError,
      message: expect.stringContaining('rate limit'),
    });
    expect(slack.attemptsTo('chat.postMessage')).toHaveLength(3); // the first try and 2 retries
  });

  it('when a 429 has no Retry-After, then WebClient gives up at once; rejectRateLimitedCalls does so with the delay', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfterSec: null });
    const bare = await client.chat.postMessage({ channel: 'C1', text: 'x' }).catch((e: unknown) => e);
    expect(bare).toBeInstanceOf(Error);
    expect(String(bare)).toContain('Retry header did not contain a valid timeout');
    expect(bare).not.toHaveProperty('code'); // a plain Error: not one of WebClient's coded errors
    expect(slack.calls).toHaveLength(1);

    slack.clear();
    slack.failNext('chat.postMessage', { status: 429, retryAfterSec: 7 });
    const limited = await clientFor(slack, { rejectRateLimitedCalls: true })
      .chat.postMessage({ channel: 'C1', text: 'x' })
      .catch((e: unknown) => e);
    expect(limited).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 7 });
    expect(slack.calls).toHaveLength(1);
  });

  it('when failures are queued, then they happen in order, per method, and clearFailures drops the rest', async () => {
    slack.setUser('U1', { name: 'one' });
    slack.failNext('users.info', { error: 'ratelimited' });
    slack.failNext('users.info', { error: 'user_not_visible' }, 2);
    slack.failNext('auth.test', { status: 502 }, 1);
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
    expect((await client.auth.test()).ok).toBe(true); // its queued 502 was dropped too
    expect(slack.calls.map((c) => c.failed ?? false)).toEqual([true, true, true, false, false]);
  });

  it('when Slack answers 5xx, then WebClient retries it, and gives up with an HTTP error after the retries', async () => {
    slack.failNext('chat.update', { status: 503 });
    await client.chat.update({ channel: 'C1', ts: '1.2', text: 'x' });
    expect(slack.calls.map((c) => c.status)).toEqual([503, 200]);

    slack.clear();
    slack.failNext('chat.update', { status: 500 }, 10);
    const err = await client.chat.update({ channel: 'C1', ts: '1.2', text: 'x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.HTTPError, statusCode: 500 });
    expect(slack.calls).toHaveLength(3);
    slack.clearFailures();
    await expect(client.chat.update({ channel: 'C1', ts: '1.2', text: 'x' })).resolves.toMatchObject({
      ok: true,
    });
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

  it('when a call lacks what Slack requires, then it is refused the way Slack refuses it', async () => {
    const refusal = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: { data?: { error?: string } }) => e.data?.error,
      );

    expect(await refusal(client.apiCall('chat.postMessage', { channel: 'C1' }))).toBe('no_text');
    expect(await refusal(client.apiCall('chat.update', { channel: 'C1', text: 'x' }))).toBe(
      'invalid_arguments',
    );
    expect(await refusal(clientFor(slack, {}, '').auth.test())).toBe('not_authed');
    expect(await refusal(client.apiCall('chat.scheduleMessage', { channel: 'C1' }))).toBe('unknown_method');
    expect(slack.calls.at(-1)).toMatchObject({ method: 'chat.scheduleMessage', failed: true });
    expect(slack.calls[1]?.response).toMatchObject({
      response_metadata: { messages: ['[ERROR] missing required field: ts'] },
    });
  });

  it('when tokens are configured, then any other token is invalid_auth', async () => {
    const strict = await startSlackStandin({ tokens: ['xoxb-right'] });
    try {
      await expect(clientFor(strict, {}, 'xoxb-right').auth.test()).resolves.toMatchObject({ ok: true });
      const err = await clientFor(strict, {}, 'xoxb-wrong')
        .auth.test()
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ data: { error: 'invalid_auth' } });
    } finally {
      await strict.close();
    }
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
      /no successful chat.update matching within 100 ms; recorded: chat.postMessage, chat.postMessage, chat.update \(failed: 200 message_not_found\)/,
    );
  });

  it('when the stand-in closes, then pending waits reject at once and closing again is harmless', async () => {
    const waiting = slack.waitFor('chat.postMessage', undefined, 10_000);
    const started = Date.now();

    await slack.close();
    await slack.close();

    await expect(waiting).rejects.toThrow(/closed while waiting for chat.postMessage/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('when someone listens with onCall, then each call is told as it is recorded, until unsubscribed', async () => {
    const told: string[] = [];
    const stop = slack.onCall((c) => told.push(`${c.method}${c.failed ? ' (failed)' : ''}`));
    slack.failNext('chat.postMessage', { error: 'not_in_channel' });

    await client.chat.postMessage({ channel: 'C1', text: 'x' }).catch(() => {});
    await client.conversations.open({ users: 'U0BOB' });
    stop();
    await client.auth.test();

    expect(told).toEqual(['chat.postMessage (failed)', 'conversations.open']);
  });

  it('when people and user groups are configured, then users.info and usergroups.users.list answer with them', async () => {
    slack.setUser('U0CAROL', { email: 'carol@corp.example', name: 'carol', tz: 'Asia/Tokyo' });
    slack.setUsergroup('S0SRE', ['U0DAN', 'U0ERIN']);

    const carol = await client.users.info({ user: 'U0CAROL' });
    const stranger = await client.users.info({ user: 'U0ZED' }).catch((e: unknown) => e);
    const sre = await client.usergroups.users.list({ usergroup: 'S0SRE' });
    const missing = await client.usergroups.users.list({ usergroup: 'S0NONE' }).catch((e: unknown) => e);

    expect(carol.user).toMatchObject({
      id: 'U0CAROL',
      name: 'carol',
      real_name: 'carol',
      tz: 'Asia/Tokyo',
      tz_offset: 9 * 3600,
      profile: { email: 'carol@corp.example' },
    });
    expect(stranger).toMatchObject({ code: ErrorCode.PlatformError, data: { error: 'user_not_found' } });
    expect(sre.users).toEqual(['U0DAN', 'U0ERIN']);
    expect(missing).toMatchObject({ data: { error: 'no_such_subteam' } });
  });

  it('when unknownUsers is derived, then anyone has a profile made from their id', async () => {
    const open = await startSlackStandin({ unknownUsers: 'derived', botUserId: 'U0BOT' });
    try {
      const zed = await clientFor(open).users.info({ user: 'U0ZED' });
      expect(zed.user).toMatchObject({ id: 'U0ZED', name: 'u0zed', profile: { email: 'u0zed@example.com' } });
      expect(await clientFor(open).auth.test()).toMatchObject({ user_id: 'U0BOT', team_id: 'T0TEAM' });
    } finally {
      await open.close();
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

    expect(im.channel?.id).toBe('D0CAROL');
    expect(eph.message_ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(opened.view?.id).toMatch(/^V/);
    expect(updated.view?.id).toBe(opened.view?.id);
    expect(home.view).toMatchObject({ type: 'home', id: expect.stringMatching(/^V/) });
    expect(me).toMatchObject({ ok: true, user_id: 'U0JITGATE', team_id: 'T0TEAM', bot_id: 'B0JITGATE' });
    expect(deleted).toMatchObject({ ok: true, channel: 'C1', ts: eph.message_ts });
    expect(slack.callsTo('views.open')[0]?.body.view).toEqual(view);
  });

  it('when something POSTs to a response URL, then it is recorded as response_url; a broken body is invalid_json', async () => {
    const post = (body: string) =>
      fetch(slack.responseUrl('cmd-1'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });

    const res = await post(JSON.stringify({ response_type: 'ephemeral', text: 'Unknown resource' }));
    const broken = await post('{not json');

    expect(await res.json()).toEqual({ ok: true });
    expect(slack.callsTo('response_url')).toEqual([
      expect.objectContaining({
        path: '/respond/cmd-1',
        body: { response_type: 'ephemeral', text: 'Unknown resource' },
      }),
    ]);
    expect(await broken.json()).toEqual({ ok: false, error: 'invalid_json' });
    expect(slack.calls[1]).toMatchObject({ failed: true, body: { raw: '{not json' } });
  });

  it('when latency is set, then answers wait that long, and a client timeout shorter than it retries', async () => {
    slack.setLatency(150);
    const started = Date.now();
    await client.auth.test();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    slack.clear();
    const err = await clientFor(slack, { timeout: 50 })
      .chat.postMessage({ channel: 'C1', text: 'x' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.RequestError });
    // Slack got (and would have posted) every attempt: a timeout plus retries can duplicate a message.
    expect(slack.callsTo('chat.postMessage')).toHaveLength(3);
  });

  it('when failNext is asked for no failures, then it says so', () => {
    expect(() => slack.failNext('chat.update', { status: 500 }, 0)).toThrow(RangeError);
  });
});
