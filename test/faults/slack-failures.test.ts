import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../shared/audit/chain.js';
import { countFigures } from '../security/figures.js';
import { botSettled } from '../support/jobs.js';
import { REDIS_URL } from '../support/redis.js';
import { type BotNode, dmsMatching, requestIdFor, type Stack, startStack } from './stack.js';

/**
 * The Slack Web API answers 429 (with Retry-After) and 500: calls are retried as Slack asks, a
 * message update that still fails is handed to the worker, and no grant, audit event, DM or final
 * message is lost or sent twice.
 */
countFigures('fault');

let stack: Stack;
let bot: BotNode;

beforeAll(async () => {
  stack = await startStack(REDIS_URL);
  bot = await stack.startBot({ worker: true });
});
afterAll(async () => stack?.close());

const dmChannel = (user: string) => `D${user.slice(1)}`;

/** The approval message's place, once the bot has saved it (just after Slack answered the post). */
async function messageTs(requestId: string): Promise<string> {
  await expect.poll(async () => (await stack.store.queries.getRequest(requestId))?.message?.ts).toBeDefined();
  return (await stack.store.queries.getRequest(requestId))!.message!.ts;
}

async function auditTypes(requestId: string): Promise<string[]> {
  const entries = (await stack.redis.xrange(stack.keys.auditStream, '-', '+')) as [string, string[]][];
  return entries
    .map(([, flat]) => JSON.parse(flat[flat.indexOf('e') + 1]!) as Record<string, unknown>)
    .filter((e) => e.requestId === requestId)
    .map((e) => String(e.type));
}

describe('Slack rate limits and errors', () => {
  it('when the approval message is rate limited (429, Retry-After 1), then it is posted once, after the wait', async () => {
    stack.standin.failNext('chat.postMessage', { status: 429, retryAfterSec: 1 });
    const { status } = await bot.command('U0FAY', 'app 1h INC-429 post');
    expect(status).toBe(200);
    const requestId = await requestIdFor(stack, 'INC-429 post', 10_000);
    const attempts = stack.standin
      .attemptsTo('chat.postMessage')
      .filter((c) => JSON.stringify(c.body).includes('INC-429 post'));
    expect(attempts.map((c) => Boolean(c.failed))).toEqual([true, false]);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(950);
    expect(await messageTs(requestId)).toBe(attempts[1]!.response.ts);
  });

  it('when the redeem-link DM is rate limited, then the grant stands and the link arrives once, after Retry-After', async () => {
    await bot.command('U0GIL', 'app 1h INC-430 dm');
    const requestId = await requestIdFor(stack, 'INC-430 dm');
    stack.standin.failNext('chat.postMessage', { status: 429, retryAfterSec: 1 });
    await bot.click('U0ALICE', 'jit_approve', requestId);
    await stack.standin.waitFor(
      'chat.postMessage',
      (c) => c.body.channel === dmChannel('U0GIL') && /_jitgate\/redeem/.test(JSON.stringify(c.body)),
      10_000,
    );
    const attempts = stack.standin
      .attemptsTo('chat.postMessage')
      .filter((c) => c.body.channel === dmChannel('U0GIL'));
    expect(attempts.map((c) => Boolean(c.failed))).toEqual([true, false]);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(950);
    expect((await stack.store.queries.getRequest(requestId))?.grantStatus).toBe('active');
    expect(await auditTypes(requestId)).toEqual(['request.created', 'request.approved', 'grant.issued']);
  });

  it('when chat.update fails with 500 more often than the bot retries, then the worker applies the update later, once', async () => {
    await bot.command('U0HAL', 'app 1h INC-500 update');
    const requestId = await requestIdFor(stack, 'INC-500 update');
    const ts = await messageTs(requestId);
    // The bot tries 4 times (3 retries); the worker's first attempt fails twice more, then lands.
    stack.standin.failNext('chat.update', { status: 500 }, 6);
    await bot.click('U0ALICE', 'jit_approve', requestId);
    await stack.standin.waitFor(
      'chat.update',
      (c) => c.body.ts === ts && /Approved/.test(JSON.stringify(c.body)),
      15_000,
    );
    await botSettled(bot.bot, bot.deps.scheduler.queue);
    const landed = stack.standin.callsTo('chat.update').filter((c) => c.body.ts === ts);
    expect(landed).toHaveLength(1);
    expect(stack.standin.attemptsTo('chat.update').filter((c) => c.body.ts === ts && c.failed)).toHaveLength(
      6,
    );
    expect((await stack.store.queries.getRequest(requestId))?.status).toBe('approved');
    // The approver still heard at once; the requester got the link once.
    expect(dmsMatching(stack, 'U0HAL', /_jitgate\/redeem/)).toHaveLength(1);
  });

  it('when the DM at a grant’s end gets 500s past the client’s retries, then the worker’s job retries and it lands once, with the final message', async () => {
    await bot.command('U0IDA', 'app 2s INC-501 ending');
    const requestId = await requestIdFor(stack, 'INC-501 ending');
    await bot.click('U0ALICE', 'jit_approve', requestId);
    await stack.standin.waitFor(
      'chat.postMessage',
      (c) => c.body.channel === dmChannel('U0IDA') && /_jitgate\/redeem/.test(JSON.stringify(c.body)),
    );
    const ts = await messageTs(requestId);
    // From now on: the ended DM fails 5 times (4 in the first job attempt), the final update 429s once.
    stack.standin.failNext('chat.postMessage', { status: 500 }, 5);
    stack.standin.failNext('chat.update', { status: 429, retryAfterSec: 1 });
    await stack.standin.waitFor(
      'chat.postMessage',
      (c) => c.body.channel === dmChannel('U0IDA') && /expired|ended/i.test(JSON.stringify(c.body)),
      15_000,
    );
    await stack.standin.waitFor(
      'chat.update',
      (c) => c.body.ts === ts && /Expired/i.test(JSON.stringify(c.body)),
      10_000,
    );
    await botSettled(bot.bot, bot.deps.scheduler.queue);
    expect(dmsMatching(stack, 'U0IDA', /expired|ended/i)).toHaveLength(1);
    expect(
      stack.standin
        .callsTo('chat.update')
        .filter((c) => c.body.ts === ts && /Expired/i.test(JSON.stringify(c.body))),
    ).toHaveLength(1);
    expect((await stack.store.queries.getRequest(requestId))?.grantStatus).toBe('expired');
    expect(await auditTypes(requestId)).toEqual([
      'request.created',
      'request.approved',
      'grant.issued',
      'grant.expired',
    ]);
  });

  it('when all of the above is done, then the audit chain is whole', async () => {
    const result = await verifyAudit(stack.redis, stack.keys);
    expect(result).toMatchObject({ ok: true });
    expect(result.entries).toBeGreaterThanOrEqual(11);
  });
});
