import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { firstDelivery } from '../../bot/slack/deliveries.js';
import { verifyAudit } from '../../shared/audit/chain.js';
import { readRefusalCounts } from '../../shared/audit/refusal-counts.js';
import { isJitgateError } from '../../shared/errors.js';
import { newRequestId, requestIdOf, type SlackUserId } from '../../shared/ids.js';
import { duplicateOf } from '../../shared/redis/connect.js';
import { redisKeys } from '../../shared/redis/keys.js';
import { countFigures } from '../security/figures.js';
import { bearer, eventually, type Harness, send, startHarness } from '../support/authorizer-harness.js';
import { anonymousRequests, flood, usedMemory } from '../support/flood.js';
import { waitReady } from '../support/redis.js';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';
import { newRequestInput } from '../support/requests.js';

/**
 * A Redis capped as production should cap it (`--maxmemory 20mb --maxmemory-policy noeviction`, as
 * BullMQ requires), on a private redis-server: anonymous floods no longer fill it, and when it is
 * full anyway, access still ends (revoke, expiry), reads still decide, and nothing new is let in.
 */
countFigures('fault');

const ADMIN = 'U0ADMIN' as SlackUserId;
const AMOUNT = Number(process.env.FLOOD_REQUESTS ?? 5_000);

let server: RedisServer;
let h: Harness;
beforeAll(async () => {
  server = await startRedisServer({ args: ['--maxmemory', '20mb', '--maxmemory-policy', 'noeviction'] });
  h = await startHarness({ redisUrl: server.url });
});
afterAll(async () => {
  await h?.close();
  await server?.close();
});

async function status(token: string): Promise<number> {
  return (await send(h.url, '/app/', { headers: bearer(token) })).status;
}

describe('a Redis with maxmemory (noeviction)', () => {
  it(
    `when ${AMOUNT.toLocaleString('en')} anonymous requests flood the authorizer, then an admin's revoke during the flood takes effect at once, another after it too, and used_memory barely moves`,
    async () => {
      // Long enough to outlast the flood on a busy machine (the harness's default is a minute).
      const insider = await h.grant('app', undefined, { durationMs: 30 * 60_000 });
      const second = await h.grant('app', undefined, { durationMs: 30 * 60_000 });
      const kinds = await anonymousRequests(h);
      const before = await usedMemory(h.redis);
      let revokedDuring: { done: number; status: number } | undefined;
      let revoking: Promise<void> | undefined;
      let finished = false;
      const result = await flood(h.url, kinds, {
        amount: AMOUNT,
        connections: 64,
        onResponse: (done) => {
          if (done !== Math.floor(AMOUNT / 4)) return;
          revoking = (async () => {
            const { outcome } = await h.store.transitions.revoke(insider.grantId, ADMIN, 'insider');
            expect(outcome).toBe('revoked');
            const s = await status(insider.token);
            revokedDuring = { done, status: s };
            expect(finished).toBe(false);
          })();
        },
      });
      finished = true;
      await revoking;
      expect(result.requests).toBe(AMOUNT);
      expect(revokedDuring?.status).toBe(401);
      expect(await status(insider.token)).toBe(401);
      // After the flood: the other holder still passes, and a revoke of theirs works as well.
      expect(await status(second.token)).toBe(200);
      expect((await h.store.transitions.revoke(second.grantId, ADMIN, 'after')).outcome).toBe('revoked');
      expect(await status(second.token)).toBe(401);
      const after = await usedMemory(h.redis);
      console.log(
        `[redis-full] ${AMOUNT} anonymous requests on a 20 MB Redis: used_memory ${before} → ${after} B ` +
          `(${after - before >= 0 ? '+' : ''}${after - before}); revoke during the flood took effect at response ${revokedDuring?.done}`,
      );
      // Before counting replaced auditing, each of these requests stored ~12.8 KB (the 20 MB filled after ~1,600).
      expect(after - before).toBeLessThan(1_048_576);
      expect((await verifyAudit(h.redis, redisKeys(h.prefix))).ok).toBe(true);
    },
    Math.max(120_000, AMOUNT * 3),
  );

  it('when Redis is full anyway, then revocation and expiry still end access, live grants are still read, nothing new is written, and counts wait until there is room', async () => {
    const live = await h.grant('app', undefined, { durationMs: 30 * 60_000 });
    const insider = await h.grant('app', undefined, { durationMs: 30 * 60_000 });
    const short = await h.grant('app', undefined, { durationMs: 1_000 });
    // Fill it to the brim with something else (as another tenant or a runaway queue would).
    const filler = duplicateOf(h.redis);
    await waitReady(filler);
    // Large values first, then ever smaller ones, until even a few bytes are refused (a large
    // value's own query buffer counts while it is refused, so the first OOM is not yet full).
    let filled = 0;
    for (const size of [256 * 1024, 16 * 1024, 1024, 64]) {
      const junk = 'x'.repeat(size);
      for (;;) {
        try {
          await filler.set(`junk:${filled}`, junk);
          filled += 1;
        } catch (err) {
          expect(String(err)).toMatch(/^ReplyError: OOM /);
          break;
        }
      }
    }
    // At the brim, a few freed bytes (a client's buffer) let the next write in: hold it well over.
    const full = await usedMemory(filler);
    await filler.config('SET', 'maxmemory', String(full - 2 * 1_048_576));

    // Nothing new: a request cannot be filed (a clear "unavailable", not a half-written record).
    const filed = await h.store.transitions.createRequest(newRequestInput()).catch((err: unknown) => err);
    expect(isJitgateError(filed, 'unavailable')).toBe(true);
    // Reads still decide: a live grant passes, anonymous requests are refused as ever.
    expect(await status(live.token)).toBe(200);
    const since = Date.now();
    for (let i = 0; i < 20; i += 1) expect((await send(h.url, `/app/${'a'.repeat(5_000)}`)).status).toBe(401);
    // Revocation works (its script may use memory: allow-oom) and takes effect on the next request.
    expect((await h.store.transitions.revoke(insider.grantId, ADMIN, 'while full')).outcome).toBe('revoked');
    expect(await status(insider.token)).toBe(401);
    // So does the expiry job's transition.
    await new Promise((r) => setTimeout(r, Math.max(0, short.expiresAt - Date.now() + 50)));
    const ended = await h.store.transitions.expireGrant(requestIdOf(short.grantId), short.grantId);
    expect(ended.outcome).toBe('expired');
    expect(await status(short.token)).toBe(401);
    // A Slack click is not refused for want of its de-duplication mark (revoke is idempotent).
    expect(await firstDelivery(h.redis, redisKeys(h.prefix), `act:${newRequestId()}`, 60)).toBe(true);
    // The refusals were counted in memory; once there is room, they are written.
    await filler.config('SET', 'maxmemory', '20mb');
    for (let i = 0; i < filled; i += 1) await filler.unlink(`junk:${i}`);
    filler.disconnect();
    await eventually(async () => {
      const counts = await readRefusalCounts(h.redis, redisKeys(h.prefix), since, Date.now());
      const missing = counts.find((c) => c.resource === 'app' && c.reason === 'token_missing');
      expect(missing?.count ?? 0).toBeGreaterThanOrEqual(20);
    }, 5_000);
  });

  it('when reading docker-compose.yml, then its Redis has a memory limit and evicts nothing', () => {
    const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as {
      services: { redis: { command: string[] } };
    };
    const command = compose.services.redis.command;
    const arg = (name: string) => command[command.indexOf(name) + 1];
    expect(arg('--maxmemory')).toMatch(/^\d+(mb|gb)$/);
    expect(arg('--maxmemory-policy')).toBe('noeviction');
  });
});
