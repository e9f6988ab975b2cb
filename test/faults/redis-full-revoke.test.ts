import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantIdOf, type RequestId } from '../../shared/ids.js';
import { connectRedis } from '../../shared/redis/connect.js';
import { countFigures } from '../security/figures.js';
import { usedMemory } from '../support/flood.js';
import { waitReady } from '../support/redis.js';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';
import {
  type AuthorizerNode,
  type BotNode,
  redeemLinkFor,
  requestIdFor,
  type Stack,
  startStack,
} from './stack.js';

/**
 * The story of the report, end to end: the bot and the authorizer on a Redis with `maxmemory` and
 * `noeviction` that is full. An admin clicks Revoke in Slack; the grant ends, and the holder's very
 * next request is refused. (Before, the click's de-duplication mark and the revoke script were
 * both refused with OOM, and the holder kept getting 200.)
 */
countFigures('fault');

let server: RedisServer;
let stack: Stack;
let bot: BotNode;
let authorizer: AuthorizerNode;
let token: string;
let requestId: RequestId;

beforeAll(async () => {
  server = await startRedisServer({ args: ['--maxmemory', '20mb', '--maxmemory-policy', 'noeviction'] });
  stack = await startStack(server.url);
  bot = await stack.startBot({ worker: true });
  authorizer = await stack.startAuthorizer();
  await bot.command('U0BOB', 'app 1h INC-9 the insider');
  requestId = (await requestIdFor(stack, 'INC-9 the insider')) as RequestId;
  await bot.click('U0ALICE', 'jit_approve', requestId);
  token = await stack.redeem(authorizer.url, await redeemLinkFor(stack, 'U0BOB'));
});
afterAll(async () => {
  await stack?.close();
  await server?.close();
});

const status = async () =>
  (await fetch(`${authorizer.url}/app/x`, { headers: { authorization: `Bearer ${token}` } })).status;

describe('a full Redis', () => {
  it("when Redis is full and an admin clicks Revoke in Slack, then the grant ends and the holder's next request is refused", async () => {
    expect(await status()).toBe(200);
    const filler = connectRedis(server.url);
    await waitReady(filler);
    let filled = 0;
    for (const size of [256 * 1024, 16 * 1024, 1024]) {
      const junk = 'x'.repeat(size);
      for (;;) {
        try {
          await filler.set(`junk:${filled}`, junk);
          filled += 1;
        } catch {
          break;
        }
      }
    }
    await filler.config('SET', 'maxmemory', String((await usedMemory(filler)) - 2 * 1_048_576));
    await expect(filler.set('one-more', 'x')).rejects.toThrow(/^OOM /);

    // Still served while the grant is live: reads need no memory.
    expect(await status()).toBe(200);
    expect((await bot.click('U0ADMIN', 'jit_revoke', grantIdOf(requestId))).status).toBe(200);
    await expect.poll(status, { timeout: 10_000, interval: 100 }).toBe(401);
    expect(await filler.hget(`${stack.keys.grant(grantIdOf(requestId))}`, 'status')).toBe('revoked');
    await filler.config('SET', 'maxmemory', '20mb');
    for (let i = 0; i < filled; i += 1) await filler.unlink(`junk:${i}`);
    filler.disconnect();
  });
});
