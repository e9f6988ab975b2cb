import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type SlackStandin, startSlackStandin } from '../../dev/slack/index.js';

/**
 * The Socket Mode side of the stand-in, spoken to with a bare WebSocket: what Slack's protocol says
 * (https://docs.slack.dev/apis/events-api/using-socket-mode), so that the bot's Socket Mode tests rest
 * on a stand-in that answers as Slack does. The bot itself over it: test/e2e/bot-socket-mode.test.ts.
 */

const APP_TOKEN = 'xapp-1-A0JITGATE-1234-abcd';

let slack: SlackStandin;
beforeEach(async () => {
  slack = await startSlackStandin({
    socketMode: { appToken: APP_TOKEN, redeliverAfterMs: 100, maxAttempts: 3 },
  });
});
afterEach(async () => slack.close());

async function open(token: string | undefined): Promise<Record<string, unknown>> {
  const res = await fetch(`${slack.apiUrl}apps.connections.open`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
  });
  return (await res.json()) as Record<string, unknown>;
}

/** A connection and the messages it has received, parsed. */
async function connect(): Promise<{
  ws: WebSocket;
  messages: Record<string, unknown>[];
  next: () => Promise<Record<string, unknown>>;
}> {
  const { url } = await open(APP_TOKEN);
  const ws = new WebSocket(String(url));
  const messages: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  let read = 0;
  ws.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as Record<string, unknown>);
    for (const wake of waiters.splice(0)) wake();
  });
  const next = async () => {
    while (messages.length <= read) await new Promise<void>((resolve) => waiters.push(resolve));
    return messages[read++]!;
  };
  return { ws, messages, next };
}

describe('apps.connections.open', () => {
  it('when called with the app-level token, then it answers a one-time ws:// URL on the stand-in', async () => {
    const answer = await open(APP_TOKEN);
    expect(answer).toMatchObject({
      ok: true,
      url: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=/),
    });
  });

  it('when the token is missing, a bot token or another app token, then it is refused as Slack refuses it', async () => {
    expect(await open(undefined)).toEqual({ ok: false, error: 'not_authed' });
    expect(await open('xoxb-123-456')).toEqual({ ok: false, error: 'not_allowed_token_type' });
    expect(await open('xapp-1-A0OTHER-1-x')).toEqual({ ok: false, error: 'invalid_auth' });
  });

  it('when the app-level token is used for anything else, then Slack refuses it', async () => {
    const res = await fetch(`${slack.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${APP_TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'channel=C0APPROVALS&text=hi',
    });
    expect(await res.json()).toEqual({ ok: false, error: 'not_allowed_token_type' });
  });

  it('when a ticket is used twice or made up, then the second connection is refused', async () => {
    const { url } = await open(APP_TOKEN);
    const first = new WebSocket(String(url));
    await new Promise((resolve) => first.once('open', resolve));
    for (const again of [String(url), String(url).replace(/ticket=[^&]+/, 'ticket=made-up')]) {
      const refused = new WebSocket(again);
      const status = await new Promise<number | undefined>((resolve) => {
        refused.once('unexpected-response', (_req, res) => resolve(res.statusCode));
        refused.once('open', () => resolve(undefined));
      });
      expect(status).toBe(401);
    }
    first.close();
  });
});

describe('envelopes', () => {
  it('when an app connects, then it is greeted with hello, and envelopes carry their type, payload and whether a response is read', async () => {
    const c = await connect();
    expect(await c.next()).toMatchObject({
      type: 'hello',
      num_connections: 1,
      connection_info: { app_id: 'A0JITGATE' },
      debug_info: { approximate_connection_time: expect.any(Number) },
    });
    const command = slack.socketMode!.deliver('slash_commands', { command: '/access', text: 'help' });
    const event = slack.socketMode!.deliver('events_api', { type: 'event_callback', event_id: 'Ev1' });
    const commandEnvelope = await c.next();
    const eventEnvelope = await c.next();
    expect(commandEnvelope).toEqual({
      envelope_id: expect.any(String),
      type: 'slash_commands',
      payload: { command: '/access', text: 'help' },
      accepts_response_payload: true,
    });
    expect(eventEnvelope).toMatchObject({
      type: 'events_api',
      accepts_response_payload: false,
      retry_attempt: 0,
      retry_reason: '',
    });
    c.ws.send(JSON.stringify({ envelope_id: commandEnvelope.envelope_id, payload: { text: 'usage' } }));
    c.ws.send(JSON.stringify({ envelope_id: eventEnvelope.envelope_id, payload: { text: 'ignored' } }));
    expect((await command).ack).toMatchObject({
      envelopeId: commandEnvelope.envelope_id,
      payload: { text: 'usage' },
    });
    // Slack reads no response to an event.
    expect((await event).ack?.payload).toBeUndefined();
    c.ws.close();
  });

  it('when an envelope is not acknowledged, then it is sent again under a new id until Slack gives up', async () => {
    const c = await connect();
    await c.next();
    const delivery = await slack.socketMode!.deliver('events_api', {
      type: 'event_callback',
      event_id: 'Ev2',
    });
    expect(delivery.gaveUp).toBe(true);
    const sent = c.messages.slice(1);
    expect(sent.map((m) => [m.retry_attempt, m.retry_reason])).toEqual([
      [0, ''],
      [1, 'timeout'],
      [2, 'timeout'],
    ]);
    expect(new Set(sent.map((m) => m.envelope_id)).size).toBe(3);
    c.ws.close();
  });

  it('when an envelope is sent twice on purpose, then both copies carry the same id and a late or unknown ack is kept apart', async () => {
    const c = await connect();
    await c.next();
    const pending = slack.socketMode!.deliver('interactive', { type: 'block_actions' }, { twice: true });
    const [a, b] = [await c.next(), await c.next()];
    expect(b).toEqual(a);
    c.ws.send(JSON.stringify({ envelope_id: a.envelope_id }));
    c.ws.send(JSON.stringify({ envelope_id: a.envelope_id }));
    c.ws.send(JSON.stringify({ envelope_id: 'never-sent' }));
    const delivery = await pending;
    await slack.socketMode!.allAcked(delivery);
    expect(delivery).toMatchObject({ sends: 2, extraAcks: 1 });
    expect(slack.socketMode!.strayAcks).toEqual([{ envelope_id: 'never-sent' }]);
    c.ws.close();
  });

  it('when no app is connected, then envelopes wait for the next connection; after refresh_requested they go to the new one', async () => {
    const waiting = slack.socketMode!.deliver('slash_commands', { command: '/access', text: 'list' });
    const first = await connect();
    await first.next();
    const envelope = await first.next();
    expect(envelope.type).toBe('slash_commands');
    expect(slack.socketMode!.disconnect('refresh_requested')).toBe(1);
    expect(await first.next()).toMatchObject({ type: 'disconnect', reason: 'refresh_requested' });
    first.ws.close();
    const second = await connect();
    await second.next();
    const again = await second.next();
    expect(again.payload).toEqual(envelope.payload);
    second.ws.send(JSON.stringify({ envelope_id: again.envelope_id }));
    expect((await waiting).ack?.envelopeId).toBe(again.envelope_id);
    second.ws.close();
  });
});
