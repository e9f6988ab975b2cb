import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countFigures } from '../security/figures.js';
import { queueSettled } from '../support/jobs.js';
import { REDIS_URL } from '../support/redis.js';
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
 * The worker (a real `npm run start:worker` process) is SIGKILLed while grants and requests are
 * outstanding. Access still ends on time without it, through the token's exp and the grant key's
 * TTL; a worker that comes back later sends each missed DM and message update once.
 */
countFigures('fault');

let stack: Stack;
let bot: BotNode;
let authorizer: AuthorizerNode;

beforeAll(async () => {
  stack = await startStack(REDIS_URL);
  bot = await stack.startBot({ worker: false });
  authorizer = await stack.startAuthorizer();
});
afterAll(async () => stack?.close());

const get = (token: string) =>
  fetch(`${authorizer.url}/app/data`, { headers: { authorization: `Bearer ${token}` } });

describe('The worker is killed with grants outstanding', () => {
  it('when the worker dies before a grant ends, then access still stops at expiry, and a new worker tells everyone once', async () => {
    const worker = await stack.spawnWorker();

    // A 3-second grant, redeemed and used.
    await bot.command('U0BOB', 'app 3s INC-1 killed worker');
    const grantRequest = await requestIdFor(stack, 'INC-1 killed worker');
    await bot.click('U0ALICE', 'jit_approve', grantRequest);
    const token = await stack.redeem(authorizer.url, await redeemLinkFor(stack, 'U0BOB'));
    expect((await get(token)).status).toBe(200);
    const { grantId, expiresAt } = (await stack.store.queries.getRequest(grantRequest))!;
    expect(decodeJwt(token).exp).toBe(Math.floor(expiresAt! / 1000));

    // A request that will time out undecided (pendingTimeout 2s).
    await bot.command('U0ERIN', 'quick 1h INC-2 nobody decides');
    const pendingRequest = await requestIdFor(stack, 'INC-2 nobody decides');

    // The worker is killed outright: no drain, no goodbye.
    await worker.kill();
    const killedAt = Date.now();

    // At expiry, with no worker at all: refused, and the grant's key is gone from Redis.
    await sleep(Math.max(0, expiresAt! - Date.now()) + 300);
    const after = await get(token);
    expect(after.status).toBe(401);
    expect(((await after.json()) as { error: string }).error).toBe('grant_expired');
    expect(await stack.redis.exists(stack.keys.grant(grantId!))).toBe(0);
    expect(await stack.store.queries.liveGrant(grantId!)).toBeUndefined();
    // Nobody has told anyone yet: that is the worker's part.
    expect(dmsMatching(stack, 'U0BOB', /ended|expired/i)).toHaveLength(0);
    expect(dmsMatching(stack, 'U0ERIN', /expired/i)).toHaveLength(0);
    // And the undecided request can no longer be approved, worker or not.
    await bot.click('U0ALICE', 'jit_approve', pendingRequest);
    await bot.bot.idle();
    expect((await stack.store.queries.getRequest(pendingRequest))?.grantId).toBeUndefined();

    // A new worker comes: every missed effect goes out, once.
    await stack.startWorker();
    await stack.standin.waitFor(
      'chat.postMessage',
      (c) => c.body.channel === 'D0BOB' && /expired|ended/i.test(JSON.stringify(c.body)),
      10_000,
    );
    await stack.standin.waitFor(
      'chat.postMessage',
      (c) => c.body.channel === 'D0ERIN' && /expired/i.test(JSON.stringify(c.body)),
      10_000,
    );
    // Every grant and request here has ended: nothing, delayed or due, is left to run.
    await queueSettled(bot.deps.scheduler.queue);
    await bot.bot.idle();
    expect(dmsMatching(stack, 'U0BOB', /expired|ended/i)).toHaveLength(1);
    expect(dmsMatching(stack, 'U0ERIN', /expired/i)).toHaveLength(1);
    const grantMessage = (await stack.store.queries.getRequest(grantRequest))!.message!;
    const pendingMessage = (await stack.store.queries.getRequest(pendingRequest))!.message!;
    const updatesSince = (ts: string) =>
      stack.standin.callsTo('chat.update').filter((c) => c.at > killedAt && c.body.ts === ts);
    expect(updatesSince(grantMessage.ts)).toHaveLength(1);
    expect(updatesSince(pendingMessage.ts)).toHaveLength(1);
    expect(JSON.stringify(updatesSince(grantMessage.ts)[0]!.body)).toMatch(/Expired/i);
    expect((await stack.store.queries.getRequest(grantRequest))?.grantStatus).toBe('expired');
    expect((await stack.store.queries.getRequest(pendingRequest))?.status).toBe('expired');
  });
});
