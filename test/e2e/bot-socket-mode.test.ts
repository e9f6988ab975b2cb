import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appHomeOpenedBody,
  blockActionsBody,
  type LoseOnPurpose,
  type SocketDelivery,
  sendToBot,
  slashCommandBody,
  startSlackStandin,
  viewSubmissionBody,
} from '../../dev/slack/index.js';
import { BOT_TEST_POLICY, type BotHarness, requestIdIn, startBotHarness } from '../support/bot-harness.js';
import { REDIS_URL, testRedis } from '../support/redis.js';

/**
 * What only Socket Mode has: the connection (app-level token, hello, refresh, drops), Slack's
 * at-least-once delivery (envelopes sent again when an ack is lost, sent twice), and the bot's port,
 * which serves the health check and no Slack request. The commands, buttons, forms and App Home run
 * over Socket Mode too, in bot-commands.test.ts and bot-buttons.test.ts.
 */

let h: BotHarness;
beforeAll(async () => {
  // Short re-delivery, so that a lost ack is made good within the test; duplicates only where a test asks.
  h = await startBotHarness({
    policy: BOT_TEST_POLICY,
    transport: 'socket',
    duplicateEvery: 0,
    redeliverAfterMs: 300,
  });
});
afterAll(async () => h?.stop());

/** `/access <text>` as an envelope, with what Slack posts back to its response_url. */
async function command(
  userId: string,
  text: string,
  options: { twice?: boolean; lose?: LoseOnPurpose } = {},
) {
  const id = `sm-${randomBytes(4).toString('hex')}`;
  const responseUrl = h.standin.responseUrl(id);
  const payload = Object.fromEntries(new URLSearchParams(slashCommandBody({ userId, text, responseUrl })));
  const delivery = await h.socket!.deliver('slash_commands', payload, options);
  await h.socket!.allAcked(delivery);
  const mine = (c: { path: string }) => c.path === `/respond/${id}`;
  return {
    delivery,
    reply: async () => String((await h.standin.waitFor('response_url', mine)).body.text),
    replies: () => h.standin.callsTo('response_url').filter(mine),
  };
}

/** Approval messages posted for requests whose reason is `reason`. */
const approvalsFor = (reason: string) =>
  h.standin
    .callsTo('chat.postMessage')
    .filter((c) => c.body.channel === 'C0APPROVALS' && JSON.stringify(c.body).includes(reason));

const ids = (d: SocketDelivery) => new Set(d.envelopeIds).size;

describe('Socket Mode: the connection', () => {
  it('when the bot starts, then it opens two connections with the app-level token and uses that token for nothing else', async () => {
    const opens = h.standin.callsTo('apps.connections.open');
    expect(opens.length).toBeGreaterThanOrEqual(2);
    expect(opens.every((c) => c.token?.startsWith('xapp-'))).toBe(true);
    expect(
      h.standin.calls
        .filter((c) => c.token?.startsWith('xapp-'))
        .every((c) => c.method === 'apps.connections.open'),
    ).toBe(true);
    expect(h.socket!.openConnections).toBe(2);
  });

  it('serves its health check on its port, and takes no Slack request over HTTP, not even a correctly signed one', async () => {
    const health = await fetch(`${h.baseUrl}/_jitgate/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });

    const before = await h.requestKeys();
    const signed = await sendToBot(h.baseUrl, {
      body: slashCommandBody({ userId: 'U0BOB', text: 'grafana 1h INC-1 over http' }),
      secret: h.secret,
    });
    expect(signed.status).toBe(404);
    const event = await sendToBot(h.baseUrl, {
      body: appHomeOpenedBody({ userId: 'U0BOB' }),
      secret: h.secret,
    });
    expect(event.status).toBe(404);
    expect((await fetch(`${h.baseUrl}/_jitgate/readyz`)).status).toBe(404);
    expect(await h.requestKeys()).toEqual(before);
    expect(h.standin.callsTo('views.publish')).toHaveLength(0);
  });

  it('when the app-level token is not accepted, then the bot does not start and says why', async () => {
    await expect(
      startBotHarness({
        policy: BOT_TEST_POLICY,
        transport: 'socket',
        botAppToken: 'xapp-1-A0JITGATE-revoked',
      }),
    ).rejects.toThrow(/invalid_auth/);
  });

  it('when the bot stops, then its connections close and its port with it', async () => {
    const other = await startBotHarness({ policy: BOT_TEST_POLICY, transport: 'socket' });
    const socket = other.socket!;
    expect(socket.openConnections).toBe(2);
    await other.stop();
    expect(socket.openConnections).toBe(0);
    await expect(fetch(`${other.baseUrl}/_jitgate/healthz`)).rejects.toThrow();
  });
});

describe('Socket Mode: delivered at least once, acted on once', () => {
  it('when the ack of a command is lost, then Slack sends it again under a new envelope id, and one request is filed', async () => {
    const cmd = await command('U0LOSTACK', 'grafana 1h INC-401 lost ack', { lose: { acks: 1 } });
    expect(cmd.delivery.lost.acks).toBe(1);
    expect(ids(cmd.delivery)).toBeGreaterThanOrEqual(2);
    const reply = await cmd.reply();
    await h.standin.waitFor('chat.postMessage', (c) => JSON.stringify(c.body).includes(requestIdIn(reply)));
    await h.bot.idle();
    expect(cmd.replies()).toHaveLength(1);
    expect(approvalsFor('INC-401 lost ack')).toHaveLength(1);
  });

  it('when a command arrives twice and its ack is lost too, then one request is filed', async () => {
    const cmd = await command('U0TWICE', 'grafana 1h INC-402 twice', { twice: true, lose: { acks: 2 } });
    expect(cmd.delivery.sends).toBeGreaterThanOrEqual(3);
    await cmd.reply();
    await h.bot.idle();
    expect(cmd.replies()).toHaveLength(1);
    expect(approvalsFor('INC-402 twice')).toHaveLength(1);
  });

  it('when an envelope is lost on its way to the bot, then it is sent again and handled', async () => {
    const cmd = await command('U0LOSTENV', 'grafana 1h INC-403 lost envelope', { lose: { sends: 1 } });
    expect(cmd.delivery.lost.sends).toBe(1);
    expect(cmd.delivery.ack).toBeDefined();
    expect(await cmd.reply()).toMatch(/Asked for 1h of \*grafana/);
  });

  it('when an approve click arrives twice and its ack is lost, then it counts once', async () => {
    const { requestId } = await h.fileRequest('U0BOB', 'grafana 1h INC-404 click');
    const body = blockActionsBody({
      userId: 'U0ALICE',
      actionId: 'jit_approve',
      value: requestId,
      messageTs: '1700000000.000100',
    });
    const click = JSON.parse(new URLSearchParams(body).get('payload')!) as Record<string, unknown>;
    const delivery = await h.socket!.deliver('interactive', click, { twice: true, lose: { acks: 1 } });
    await h.socket!.allAcked(delivery);
    await h.waitForDm('U0BOB', /_jitgate\/redeem/);
    await h.bot.idle();
    expect(h.dmsTo('U0BOB').filter((c) => /_jitgate\/redeem/.test(JSON.stringify(c.body)))).toHaveLength(1);
    expect((await h.deps.store.queries.getRequest(requestId))?.status).toBe('approved');
  });

  it('when app_home_opened goes unacknowledged twice, then the retries say so (retry_attempt) and App Home is published once', async () => {
    const seen: unknown[] = [];
    const stop = h.socket!.onEnvelope((e) => seen.push(e));
    const event = JSON.parse(appHomeOpenedBody({ userId: 'U0HOME' })) as Record<string, unknown>;
    const delivery = await h.socket!.deliver('events_api', event, { lose: { acks: 2 } });
    stop();
    await h.socket!.allAcked(delivery);
    await h.bot.idle();
    expect(seen).toMatchObject([
      { type: 'events_api', retry_attempt: 0, retry_reason: '', accepts_response_payload: false },
      { type: 'events_api', retry_attempt: 1, retry_reason: 'timeout' },
      { type: 'events_api', retry_attempt: 2, retry_reason: 'timeout' },
    ]);
    expect(h.standin.callsTo('views.publish').filter((c) => c.body.user_id === 'U0HOME')).toHaveLength(1);
  });
});

describe('Socket Mode: what the bot does not handle, it does not acknowledge', () => {
  it('when a command other than /access, an unknown form or an unknown button arrives, then it is never acknowledged and nothing changes', async () => {
    const { requestId } = await h.fileRequest('U0UNKNOWN', 'grafana 1h INC-440 unknown ids');
    const before = await h.requestKeys();
    const form = (body: string) =>
      JSON.parse(new URLSearchParams(body).get('payload')!) as Record<string, unknown>;
    const [other, unknownForm, unknownButton] = await Promise.all([
      h.socket!.deliver(
        'slash_commands',
        Object.fromEntries(
          new URLSearchParams(slashCommandBody({ userId: 'U0BOB', command: '/grant', text: 'grafana 1h x' })),
        ),
      ),
      h.socket!.deliver(
        'interactive',
        form(
          viewSubmissionBody({
            userId: 'U0BOB',
            callbackId: 'jit_request_admin',
            values: { jit_reason: { reason: 'x' } },
          }),
        ),
      ),
      h.socket!.deliver(
        'interactive',
        form(
          blockActionsBody({
            userId: 'U0ALICE',
            actionId: 'JIT_APPROVE',
            value: requestId,
            messageTs: '1700000000.000100',
          }),
        ),
      ),
    ]);
    for (const d of [other, unknownForm, unknownButton])
      expect(d).toMatchObject({ ack: undefined, gaveUp: true });
    await h.bot.idle();
    expect(await h.requestKeys()).toEqual(before);
    expect((await h.deps.store.queries.getRequest(requestId))?.approvals).toEqual([]);
  });

  it('when the connection carries what Slack never sends (broken JSON, binary, unknown types, no payload), then the bot ignores it and stays connected', async () => {
    const opened = h.socket!.connectionsOpened;
    for (const raw of [
      '{not json',
      Buffer.from([0xde, 0xad, 0xbe, 0xef]),
      '[]',
      JSON.stringify({
        type: 'no_such_type',
        envelope_id: 'e-1',
        payload: { command: '/access', text: 'list' },
      }),
      JSON.stringify({ type: 'slash_commands', envelope_id: 'e-2' }),
      JSON.stringify({ type: 'events_api', envelope_id: 'e-3', payload: { event: {} } }),
    ]) {
      h.socket!.sendRaw(raw);
    }
    const cmd = await command('U0GARBAGE', 'grafana 1h INC-441 after garbage');
    expect(await cmd.reply()).toMatch(/Asked for 1h/);
    expect(h.socket!.connectionsOpened).toBe(opened);
    expect(h.socket!.openConnections).toBe(2);
  });
});

describe('Socket Mode: Slack recycles the connection', () => {
  it('when Slack refreshes one connection, then the other takes every envelope while the first cannot come back, and then it does', async () => {
    const opened = h.socket!.connectionsOpened;
    // Slack will not hand out a new connection for now: only the other one is left.
    h.standin.failNext('apps.connections.open', { error: 'internal_error' }, 1000);
    try {
      expect(h.socket!.disconnect('refresh_requested', { count: 1 })).toBe(1);
      const sent = await Promise.all(
        [5, 6, 7].map((n) => command(`U0CAROL${n}`, `grafana 1h INC-41${n} one refreshed`, { twice: true })),
      );
      for (const cmd of sent) expect(await cmd.reply()).toMatch(/Asked for 1h/);
      await h.bot.idle();
      expect(h.socket!.connectionsOpened).toBe(opened);
      for (const [i, cmd] of sent.entries()) {
        expect(cmd.replies()).toHaveLength(1);
        expect(approvalsFor(`INC-41${i + 5} one refreshed`)).toHaveLength(1);
      }
    } finally {
      h.standin.clearFailures();
    }
    await h.socket!.waitForConnections(opened + 1);
    expect(h.socket!.openConnections).toBe(2);
  });

  it('when Slack refreshes every connection at once, then the bot reconnects and every command sent meanwhile is handled once', async () => {
    const opened = h.socket!.connectionsOpened;
    expect(h.socket!.disconnect('refresh_requested')).toBe(2);
    const sent = await Promise.all(
      // Three people: one person has one undecided request per resource.
      [1, 2, 3].map((n) => command(`U0CAROL${n}`, `grafana 1h INC-41${n} during refresh`, { twice: true })),
    );
    await h.socket!.waitForConnections(opened + 1);
    for (const cmd of sent) expect(await cmd.reply()).toMatch(/Asked for 1h/);
    await h.bot.idle();
    for (const [i, cmd] of sent.entries()) {
      expect(cmd.replies()).toHaveLength(1);
      expect(approvalsFor(`INC-41${i + 1} during refresh`)).toHaveLength(1);
    }
    await h.socket!.waitForConnections(opened + 2);
    expect(h.socket!.openConnections).toBe(2);
  });

  it('when both connections drop without a word, then the bot reconnects and what was in flight is handled once', async () => {
    const opened = h.socket!.connectionsOpened;
    const pending = command('U0CAROL4', 'grafana 1h INC-420 dropped', { twice: true });
    h.socket!.drop();
    const cmd = await pending;
    await h.socket!.waitForConnections(opened + 1);
    await cmd.reply();
    await h.bot.idle();
    expect(cmd.replies()).toHaveLength(1);
    expect(approvalsFor('INC-420 dropped')).toHaveLength(1);
  });
});

describe('Socket Mode: npm run start:bot as a user starts it', () => {
  it('when only SLACK_BOT_TOKEN and SLACK_APP_TOKEN are set, then the process connects, answers a command, serves its health check on BOT_PORT, and stops cleanly on SIGTERM', async () => {
    const appToken = `xapp-1-A0JITGATE-${randomBytes(6).toString('hex')}`;
    const botToken = `xoxb-${randomBytes(6).toString('hex')}`;
    const slack = await startSlackStandin({
      unknownUsers: 'derived',
      tokens: [botToken],
      socketMode: { appToken },
    });
    const redis = await testRedis();
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-socket-'));
    const policyFile = join(dir, 'policy.yml');
    writeFileSync(policyFile, BOT_TEST_POLICY);
    // The entry file itself, as `npm run dev:bot` runs it: no signing secret, the port chosen by the OS.
    const child = spawn(process.execPath, ['--import', 'tsx', 'bot/main.ts'], {
      env: {
        ...process.env,
        REDIS_URL,
        JITGATE_REDIS_PREFIX: redis.prefix,
        JITGATE_POLICY: policyFile,
        SLACK_BOT_TOKEN: botToken,
        SLACK_APP_TOKEN: appToken,
        SLACK_SIGNING_SECRET: '',
        SLACK_API_URL: slack.apiUrl,
        BOT_PORT: '0',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let out = '';
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no start line: ${out.slice(-800)}`)), 20_000);
        child.stdout!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const m = /"port":(\d+)[^\n]*Socket Mode/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
        child.stderr!.on('data', (chunk: Buffer) => {
          out += chunk.toString();
        });
        void exited.then((code) => reject(new Error(`the bot exited with ${code}: ${out.slice(-800)}`)));
      });
      expect(slack.socketMode!.openConnections).toBe(2);
      const health = await fetch(`http://127.0.0.1:${port}/_jitgate/healthz`);
      expect(health.status).toBe(200);

      const responseUrl = slack.responseUrl('proc');
      const payload = Object.fromEntries(
        new URLSearchParams(
          slashCommandBody({ userId: 'U0BOB', text: 'grafana 1h INC-430 from a process', responseUrl }),
        ),
      );
      expect((await slack.socketMode!.deliver('slash_commands', payload)).ack).toBeDefined();
      expect(String((await slack.waitFor('response_url')).body.text)).toMatch(/Asked for 1h of \*grafana/);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(slack.socketMode!.openConnections).toBe(0);
      expect(out).not.toContain(appToken);
      expect(out).not.toContain(botToken);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      await redis.cleanup();
      await slack.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
