import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countFigures } from '../security/figures.js';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';
import {
  type AuthorizerNode,
  type BotNode,
  dmsMatching,
  redeemLinkFor,
  requestIdFor,
  type Stack,
  sleep,
  startStack,
} from './stack.js';

/**
 * Redis goes away under load, on a private redis-server (the shared one on 6379 is never touched):
 * stopped, frozen, and killed outright. The authorizer answers 503 to every request while it cannot
 * check the grant (zero requests pass), the bot answers Slack with a clear message at once, and both
 * recover on their own when Redis is back, with no restart.
 */
countFigures('fault');

let server: RedisServer;
let stack: Stack;
let bot: BotNode;
let authorizer: AuthorizerNode;
let token: string;

beforeAll(async () => {
  server = await startRedisServer();
  stack = await startStack(server.url);
  bot = await stack.startBot({ worker: true });
  authorizer = await stack.startAuthorizer();
  await bot.command('U0BOB', 'app 1h INC-1 under load');
  await bot.click('U0ALICE', 'jit_approve', await requestIdFor(stack, 'INC-1 under load'));
  token = await stack.redeem(authorizer.url, await redeemLinkFor(stack, 'U0BOB'));
});
afterAll(async () => {
  if (server && !server.running()) await server.start().catch(() => {});
  await stack?.close();
  await server?.close();
});

interface Shot {
  start: number;
  end: number;
  status: number;
}

/** `concurrency` clients hitting the resource back to back until stopped. */
function load(concurrency: number) {
  const shots: Shot[] = [];
  /** When each request started (shots are recorded when they end). */
  const starts: number[] = [];
  let running = true;
  const client = async () => {
    while (running) {
      const start = Date.now();
      starts.push(start);
      let status = 0;
      try {
        const res = await fetch(`${authorizer.url}/app/x`, { headers: { authorization: `Bearer ${token}` } });
        await res.arrayBuffer();
        status = res.status;
      } catch {
        status = -1;
      }
      shots.push({ start, end: Date.now(), status });
    }
  };
  const clients = Array.from({ length: concurrency }, client);
  return {
    shots,
    starts,
    /** Resolves once the shots so far satisfy `enough` (the traffic a later assertion needs has happened). */
    async until(enough: (shots: Shot[]) => boolean, timeoutMs = 10_000) {
      await expect.poll(() => enough(shots), { timeout: timeoutMs, interval: 20 }).toBe(true);
    },
    async stop() {
      running = false;
      await Promise.all(clients);
      return shots;
    },
  };
}

const readyz = async () => (await fetch(`${authorizer.url}/_jitgate/readyz`)).status;

async function waitReady(timeoutMs = 10_000): Promise<number> {
  await expect.poll(readyz, { timeout: timeoutMs, interval: 50 }).toBe(200);
  return Date.now();
}

/** The bot's own connection is back too (it reconnects on its own schedule, not the authorizer's). */
async function botReconnected(timeoutMs = 10_000): Promise<void> {
  await expect.poll(() => bot.deps.store.redis.status, { timeout: timeoutMs, interval: 20 }).toBe('ready');
}

describe('Redis goes away', () => {
  it('when Redis stops under load, then every request started while it is gone gets 503, and the same token passes again once it is back', async () => {
    const traffic = load(12);
    await traffic.until((shots) => shots.some((s) => s.status === 200 && s.end < Date.now() - 60));
    // Stopping takes a while on a busy machine, and requests may fail while it does: "before" ends
    // when the stop begins, "gone" starts when it is over.
    const stoppingAt = Date.now();
    await server.stop({ keepData: true });
    const goneAt = Date.now();
    // Long enough for several reconnection attempts, and enough requests to judge.
    await sleep(500);
    await traffic.until((shots) => shots.filter((s) => s.start >= goneAt).length > 20);
    expect(await readyz()).toBe(503);
    const health = await fetch(`${authorizer.url}/_jitgate/healthz`);
    expect(health.status).toBe(200);
    const backAt = Date.now();
    await server.start();
    const readyAt = await waitReady();
    await traffic.until((shots) => shots.filter((s) => s.start >= readyAt + 100).length >= 12);
    const shots = await traffic.stop();

    const during = shots.filter((s) => s.start >= goneAt && s.end <= backAt);
    expect(during.length).toBeGreaterThan(20);
    expect(during.filter((s) => s.status === 200)).toHaveLength(0);
    expect(during.every((s) => s.status === 503)).toBe(true);
    const before = shots.filter((s) => s.end < stoppingAt - 50);
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((s) => s.status === 200)).toBe(true);
    const after = shots.filter((s) => s.start >= readyAt + 100);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((s) => s.status === 200)).toBe(true);
  });

  it('when Redis hangs (SIGSTOP) under load, then requests get 503 within the command timeout, none passes, and it recovers when Redis does', async () => {
    const traffic = load(6);
    await traffic.until((shots) => shots.some((s) => s.status === 200));
    server.freeze();
    const frozenAt = Date.now();
    // Judged: the requests started in the first half second of the freeze (at least one: on a busy
    // machine every client may still be waiting on a request from before the freeze, and start its
    // next one only when that one times out). Redis stays frozen until each of them has been
    // answered, so none can be served by a thawed Redis, whatever the machine's load.
    await sleep(500);
    await expect
      .poll(() => traffic.starts.some((t) => t >= frozenAt), { timeout: 10_000, interval: 20 })
      .toBe(true);
    const windowEnd = Math.max(frozenAt + 500, Math.min(...traffic.starts.filter((t) => t >= frozenAt)) + 1);
    const judged = (t: number) => t >= frozenAt && t < windowEnd;
    await traffic.until(
      (shots) => shots.filter((s) => judged(s.start)).length === traffic.starts.filter(judged).length,
      15_000,
    );
    await sleep(Math.max(0, frozenAt + 2_600 - Date.now()));
    server.thaw();
    const thawedAt = Date.now();
    const readyAt = await waitReady();
    await traffic.until((shots) => shots.filter((s) => s.start >= readyAt + 100).length >= 6);
    const shots = await traffic.stop();

    const during = shots.filter((s) => judged(s.start));
    expect(Math.max(...during.map((s) => s.end))).toBeLessThan(thawedAt);
    expect(during.length).toBeGreaterThan(0);
    expect(during.filter((s) => s.status === 200)).toHaveLength(0);
    expect(during.every((s) => s.status === 503)).toBe(true);
    // Refused by the command timeout (2 s), not left hanging.
    expect(Math.max(...during.map((s) => s.end - s.start))).toBeLessThan(3_500);
    const tail = shots.filter((s) => s.start >= readyAt + 100);
    expect(tail.length).toBeGreaterThan(0);
    expect(tail.every((s) => s.status === 200)).toBe(true);
  });

  it('when Redis is away, then the bot acks Slack at once and says it cannot reach its store; when it is back, the bot and its worker carry on', async () => {
    await bot.command('U0CAT', 'app 1h INC-2 filed before');
    const before = await requestIdFor(stack, 'INC-2 filed before');

    await server.stop({ keepData: true });
    try {
      const started = Date.now();
      const cmd = await bot.command('U0CAT', 'app 1h INC-3 while away');
      expect(cmd.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(1_000);
      const reply = await stack.standin.waitFor('response_url', (c) => c.path.endsWith(cmd.replyId));
      expect(String(reply.body.text)).toMatch(/cannot reach its state store/);
      expect(String(reply.body.text)).toMatch(/Nothing was changed/);

      const click = await bot.click('U0ALICE', 'jit_approve', before);
      expect(click.status).toBe(200);
      const told = await stack.standin.waitFor(
        'chat.postEphemeral',
        (c) => c.body.user === 'U0ALICE' && /cannot reach its state store/.test(String(c.body.text)),
      );
      expect(String(told.body.text)).toMatch(/Nothing was changed/);
    } finally {
      await server.start();
    }
    await waitReady();
    await botReconnected();

    // The request filed before the outage is intact and can be approved now.
    expect((await stack.store.queries.getRequest(before))?.status).toBe('pending');
    await bot.click('U0ALICE', 'jit_approve', before);
    await redeemLinkFor(stack, 'U0CAT');
    // New requests are filed again, and the worker in the bot runs their jobs (a 2-second timeout).
    await bot.command('U0DON', 'quick 1h INC-4 after the outage');
    const late = await requestIdFor(stack, 'INC-4 after the outage');
    await stack.standin.waitFor(
      'chat.postMessage',
      (c) => c.body.channel === 'D0DON' && /expired/i.test(JSON.stringify(c.body)),
      10_000,
    );
    expect((await stack.store.queries.getRequest(late))?.status).toBe('expired');
    expect(dmsMatching(stack, 'U0DON', /expired/i)).toHaveLength(1);
  });

  it('when Redis is killed and comes back empty, then the old token is refused (never passed) and new grants work', async () => {
    await server.kill({ loseData: true });
    expect(
      (await fetch(`${authorizer.url}/app/x`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(503);
    await server.start();
    await waitReady();
    await botReconnected();
    // Its grant is gone with the data: refused as expired, fail closed.
    const res = await fetch(`${authorizer.url}/app/x`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    // The bot files and grants on the empty Redis without a restart.
    await bot.command('U0EVE', 'app 1h INC-5 fresh start');
    await bot.click('U0ALICE', 'jit_approve', await requestIdFor(stack, 'INC-5 fresh start'));
    const fresh = await stack.redeem(authorizer.url, await redeemLinkFor(stack, 'U0EVE'));
    expect(
      (await fetch(`${authorizer.url}/app/x`, { headers: { authorization: `Bearer ${fresh}` } })).status,
    ).toBe(200);
  });
});
