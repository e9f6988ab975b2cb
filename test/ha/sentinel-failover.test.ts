import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAudit, verifyAudit } from '../../shared/audit/chain.js';
import { connectRedis } from '../../shared/redis/connect.js';
import type { RedisTarget } from '../../shared/redis/target.js';
import {
  type AuthorizerNode,
  type BotNode,
  dmsMatching,
  redeemLinkFor,
  requestIdFor,
  type Stack,
  sleep,
  startStack,
} from '../faults/stack.js';
import { botSettled } from '../support/jobs.js';
import { cli, type SentinelSet, startSentinelSet } from './servers.js';

/**
 * Redis behind Sentinel loses its master: a master, one replica and three sentinels on loopback
 * (down after 1 s, failover timeout 3 s), all requiring a password that jitgate takes from
 * REDIS_URL. The whole of jitgate (bot with its worker, authorizer) runs on it. While there is no
 * master the authorizer refuses (503) and the bot says nothing was changed; once a sentinel has
 * promoted the replica everything carries on without a restart: the same token passes, revocations
 * and expiries happen, no job and no audit event is lost. A revocation is only reported done once
 * a replica has it (WAIT).
 */
const PASSWORD = `ha-${randomBytes(6).toString('hex')}`;

let set: SentinelSet;
let target: RedisTarget;
let stack: Stack;
let bot: BotNode;
let authorizer: AuthorizerNode;

beforeAll(async () => {
  set = await startSentinelSet({ password: PASSWORD, downAfterMs: 1_000, failoverTimeoutMs: 3_000 });
  target = {
    kind: 'sentinel',
    sentinels: set.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
    master: set.name,
    // Only the password is used: Sentinel names the host.
    url: `redis://:${PASSWORD}@127.0.0.1:6379`,
  };
  stack = await startStack(target);
  bot = await stack.startBot({ worker: true });
  authorizer = await stack.startAuthorizer();
}, 60_000);
afterAll(async () => {
  // A failed test may leave its load running: stop it before the servers.
  await stopLoad();
  await stack?.close();
  await set?.close();
});

let stopLoad: () => Promise<void> = async () => {};

const get = async (token: string) => {
  const res = await fetch(`${authorizer.url}/app/x`, { headers: { authorization: `Bearer ${token}` } });
  const body = await res.text();
  return { status: res.status, body };
};

/** A grant for `user` through the bot (filed, approved by U0ALICE, redeemed): its ids and token. */
async function grant(user: string, duration: string, marker: string) {
  await bot.command(user, `app ${duration} ${marker}`);
  const requestId = await requestIdFor(stack, marker);
  await bot.click('U0ALICE', 'jit_approve', requestId);
  const token = await stack.redeem(authorizer.url, await redeemLinkFor(stack, user));
  const { grantId, expiresAt } = (await stack.store.queries.getRequest(requestId))!;
  return { requestId, grantId: grantId!, expiresAt: expiresAt!, token };
}

/** What the bot answered `/access <text>` from `user`. */
async function reply(user: string, text: string): Promise<string> {
  const { replyId } = await bot.command(user, text);
  const answer = await stack.standin.waitFor('response_url', (c) => c.path.endsWith(replyId), 10_000);
  return String(answer.body.text);
}

/** The master the sentinels name has a replica whose copy is as far as the master's (nothing in flight). */
async function replicaCaughtUp(timeoutMs = 20_000): Promise<void> {
  await expect
    .poll(
      async () => {
        const port = await set.currentMaster();
        const info = await cli(port, 'INFO', 'replication');
        const offset = /master_repl_offset:(\d+)/.exec(info)?.[1];
        const replica = /slave0:.*state=online,offset=(\d+)/.exec(info)?.[1];
        return replica !== undefined && replica === offset;
      },
      { timeout: timeoutMs, interval: 50 },
    )
    .toBe(true);
}

const readyz = async () => (await fetch(`${authorizer.url}/_jitgate/readyz`)).status;

describe('Redis behind Sentinel', () => {
  it('when REDIS_URL carries a wrong password, then no connection is made (the right one is what the suite runs on)', async () => {
    const wrong = connectRedis(
      { ...target, url: 'redis://:not-the-password@127.0.0.1:6379' } as RedisTarget,
      {
        retryStrategy: () => null,
        enableOfflineQueue: true,
      },
    );
    wrong.on('error', () => {});
    await expect(wrong.ping()).rejects.toThrow();
    wrong.disconnect();
    expect(await stack.redis.ping()).toBe('PONG');
  });

  it('when the replica does not confirm a revocation in time, then the bot says it is in effect but not yet safe, and it is refused at once; revoked again once the replica is back, it is confirmed', async () => {
    const a = await grant('U0BOB', '1h', 'INC-1 replica frozen');
    expect((await get(a.token)).status).toBe(200);

    const revokedAt = Date.now();
    const endedDms = () =>
      stack.standin
        .callsTo('chat.postMessage')
        .filter(
          (c) =>
            c.at >= revokedAt && c.body.channel === 'D0BOB' && /revoked|ended/i.test(JSON.stringify(c.body)),
        );
    set.replica.freeze();
    let unconfirmed: string;
    try {
      unconfirmed = await reply('U0BOB', `revoke ${a.grantId} done`);
      // In effect on the master at once, whatever the replica.
      const refused = await get(a.token);
      expect(refused.status).toBe(401);
      expect(refused.body).toContain('grant_revoked');
    } finally {
      set.replica.thaw();
    }
    expect(unconfirmed).toMatch(
      /The revocation is in effect, but no Redis replica confirmed it within 1000 ms/,
    );
    expect(unconfirmed).toMatch(/Do it again to be sure/);
    expect(unconfirmed).not.toMatch(/Revoked \*/);

    // What follows a revocation still happens: the holder is told once, by the worker.
    await expect.poll(() => endedDms().length, { timeout: 10_000 }).toBe(1);

    await replicaCaughtUp();
    expect(await reply('U0BOB', `revoke ${a.grantId}`)).toMatch(/was already revoked/);
    await botSettled(bot.bot, bot.deps.scheduler.queue);
    expect(endedDms()).toHaveLength(1);

    // With the replica in step, a revocation is reported only once the replica has it.
    const b = await grant('U0GUS', '1h', 'INC-2 replica healthy');
    expect(await reply('U0GUS', `revoke ${b.grantId}`)).toMatch(/Revoked .* effective at once/);
    const onReplica = await cli(set.replica.port, 'HGET', stack.keys.request(b.requestId), 'grantStatus');
    expect(onReplica).toBe('revoked');
  });

  it('when the master is killed, then requests are refused (503) and the bot changes nothing until a replica is promoted; then everything carries on without a restart and nothing is lost', async () => {
    const oldMaster = await set.currentMaster();
    expect(oldMaster).toBe(set.master.port);
    const holder = await grant('U0CAT', '1h', 'INC-3 across the failover');
    // A short grant whose expiry job was queued before the failure and is due after it.
    const short = await grant('U0DON', '6s', 'INC-4 ends after the failover');

    // Load: six clients using the holder's token back to back.
    const shots: { start: number; end: number; status: number }[] = [];
    let running = true;
    const client = async () => {
      while (running) {
        const start = Date.now();
        const { status } = await get(holder.token).catch(() => ({ status: -1 }));
        shots.push({ start, end: Date.now(), status });
      }
    };
    const clients = Array.from({ length: 6 }, client);
    stopLoad = async () => {
      running = false;
      await Promise.all(clients);
    };
    await expect
      .poll(() => shots.filter((s) => s.status === 200).length, { timeout: 10_000 })
      .toBeGreaterThan(20);

    // Everything acknowledged so far is on the replica (asynchronous replication is measured below).
    await replicaCaughtUp();
    const auditBefore: string[] = [];
    for await (const e of readAudit(stack.redis, stack.keys)) auditBefore.push(e.id);
    const queue = bot.deps.scheduler.queue;
    const jobsBefore = (await queue.getJobs(['delayed', 'waiting', 'active', 'completed'])).map((j) => j.id);
    expect(jobsBefore.length).toBeGreaterThan(0);

    // The moment a replica is master again: the leading sentinel announces +promoted-slave (and from
    // then on names it to clients), then +switch-master. Watched on every sentinel: any may lead.
    const watchers = set.sentinels.map((sentinel) => {
      const w = connectRedis(`redis://127.0.0.1:${sentinel.port}`, { enableOfflineQueue: true });
      w.on('error', () => {});
      return w;
    });
    let promotedAt = 0;
    let switchedAt = 0;
    for (const w of watchers) {
      w.on('message', (channel: string) => {
        if (channel === '+promoted-slave' && promotedAt === 0) promotedAt = Date.now();
        if (channel === '+switch-master' && switchedAt === 0) switchedAt = Date.now();
      });
      await w.subscribe('+promoted-slave', '+switch-master');
    }

    await set.master.kill();
    const killedAt = Date.now();

    // No master: the bot answers at once that nothing was changed.
    const during = await reply('U0EVE', 'app 1h INC-5 while there is no master');
    expect(during).toMatch(/cannot reach its state store/);
    expect(during).toMatch(/Nothing was changed/);

    await expect.poll(() => switchedAt, { timeout: 30_000, interval: 20 }).toBeGreaterThan(0);
    for (const w of watchers) w.disconnect();
    expect(promotedAt).toBeGreaterThan(0);
    // The sentinel asked may hear of the switch a little after the one that made it.
    await expect.poll(() => set.currentMaster(), { timeout: 10_000, interval: 50 }).toBe(set.replica.port);
    await expect.poll(readyz, { timeout: 20_000, interval: 50 }).toBe(200);
    const readyAt = Date.now();
    await expect
      .poll(() => shots.filter((s) => s.start > readyAt + 100).length, { timeout: 20_000 })
      .toBeGreaterThanOrEqual(12);
    await stopLoad();

    // Answered while there was no master: every one refused, none passed.
    const inOutage = shots.filter((s) => s.start >= killedAt && s.end <= promotedAt);
    expect(inOutage.length).toBeGreaterThan(0);
    expect(inOutage.filter((s) => s.status === 200)).toHaveLength(0);
    expect(inOutage.every((s) => s.status === 503)).toBe(true);
    // After the promotion only 503 (not yet reconnected) or 200: no other answer, no error.
    const sinceKill = shots.filter((s) => s.start >= killedAt);
    expect(sinceKill.every((s) => s.status === 503 || s.status === 200)).toBe(true);
    // Once the authorizer is ready again, the same token passes every time.
    const after = shots.filter((s) => s.start > readyAt + 100);
    expect(after.every((s) => s.status === 200)).toBe(true);
    const refused = sinceKill.filter((s) => s.status === 503).length;
    const firstPass = Math.min(...sinceKill.filter((s) => s.status === 200).map((s) => s.end));
    console.log(
      `sentinel failover: master killed → replica promoted after ${promotedAt - killedAt} ms (+switch-master after ${switchedAt - killedAt} ms) → first request passed again after ${firstPass - killedAt} ms (readyz 200 after ${readyAt - killedAt} ms); ${refused} of ${sinceKill.length} requests since the kill refused with 503, none passed without a master`,
    );

    // Nothing acknowledged before the failure is lost: the audit chain and the queued jobs.
    const auditAfter: string[] = [];
    for await (const e of readAudit(stack.redis, stack.keys)) auditAfter.push(e.id);
    expect(auditAfter.slice(0, auditBefore.length)).toEqual(auditBefore);
    const jobsAfter = new Set(
      (await queue.getJobs(['delayed', 'waiting', 'active', 'completed'])).map((j) => j.id),
    );
    expect(jobsBefore.filter((id) => !jobsAfter.has(id))).toEqual([]);
    // The request tried while there was no master was never filed.
    expect(JSON.stringify(stack.standin.callsTo('chat.postMessage'))).not.toContain('INC-5');

    // The short grant still ends at its time, by the job queued before the failover.
    await sleep(Math.max(0, short.expiresAt - Date.now()) + 300);
    const ended = await get(short.token);
    expect(ended.status).toBe(401);
    expect(ended.body).toContain('grant_expired');
    await stack.standin.waitFor(
      'chat.postMessage',
      (c) => c.body.channel === 'D0DON' && /expired|ended/i.test(JSON.stringify(c.body)),
      15_000,
    );
    expect((await stack.store.queries.getRequest(short.requestId))?.grantStatus).toBe('expired');

    // No replica is left: a revocation takes effect, and says it is not yet safe from another failure.
    const alone = await reply('U0CAT', `revoke ${holder.grantId}`);
    expect(alone).toMatch(/in effect, but no Redis replica confirmed it/);
    expect((await get(holder.token)).status).toBe(401);

    // The old master comes back (empty): the sentinels make it a replica of the new one.
    await set.master.restart();
    await replicaCaughtUp(30_000);
    // New grants, and confirmed revocations, on the new master.
    const fresh = await grant('U0FAY', '1h', 'INC-6 after the failover');
    expect((await get(fresh.token)).status).toBe(200);
    expect(await reply('U0FAY', `revoke ${fresh.grantId}`)).toMatch(/Revoked .* effective at once/);
    expect((await get(fresh.token)).status).toBe(401);

    await botSettled(bot.bot, queue, 15_000);
    expect(dmsMatching(stack, 'U0DON', /expired|ended/i)).toHaveLength(1);
    const audit = await verifyAudit(stack.redis, stack.keys);
    expect(audit.ok).toBe(true);
    const events: { type: string; grantId?: string }[] = [];
    for await (const e of readAudit(stack.redis, stack.keys)) events.push(JSON.parse(e.fields.e!));
    const of = (type: string, grantId: string) =>
      events.filter((e) => e.type === type && e.grantId === grantId);
    expect(of('grant.expired', short.grantId)).toHaveLength(1);
    expect(of('grant.revoked', holder.grantId)).toHaveLength(1);
    expect(of('grant.revoked', fresh.grantId)).toHaveLength(1);
  });
});
