import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../shared/clock.js';
import { isJitgateError } from '../../shared/errors.js';
import { liveGrantReads } from '../../shared/grants/live-grant-reads.js';
import { AccessStore } from '../../shared/grants/store.js';
import type { GrantId, SlackUserId } from '../../shared/ids.js';
import { connectRedis } from '../../shared/redis/connect.js';
import {
  ON_CLUSTER,
  REDIS_TARGET,
  REDIS_URL,
  type TestRedis,
  testRedis,
  waitReady,
} from '../support/redis.js';
import { newRequestInput } from '../support/requests.js';

let t: TestRedis;
let store: AccessStore;

beforeEach(async () => {
  t = await testRedis();
  store = new AccessStore(t.redis, { prefix: t.prefix, clock: systemClock });
});
afterEach(() => t.cleanup());

async function mintGrant(user = 'U0ALICE'): Promise<GrantId> {
  const req = newRequestInput({ requester: user as SlackUserId });
  await store.transitions.createRequest(req);
  const { decision } = await store.transitions.approve(req.id, 'U0BOSS' as SlackUserId);
  if (decision.outcome !== 'granted') throw new Error(`not granted: ${decision.outcome}`);
  return decision.grantId;
}

const unknownGrant = `g_${'z'.repeat(26)}`;

describe('live grant reads, pipelined per turn of the event loop (real Redis)', () => {
  it('when reads are asked for in one turn, then they go out in one pipeline and each gets its own grant', async () => {
    const [a, b] = [await mintGrant('U0ALICE'), await mintGrant('U0BOB')];
    const reads = liveGrantReads(t.redis, t.keys);
    const answers = await Promise.all([
      reads.liveGrant(a),
      reads.liveGrant(b),
      reads.liveGrant(unknownGrant),
    ]);
    expect(answers.map((g) => g?.user)).toEqual(['U0ALICE', 'U0BOB', undefined]);
    expect(answers[0]).toEqual(await store.queries.liveGrant(a));
    expect(reads.stats()).toEqual({ reads: 3, pipelines: 1 });
  });

  it('when reads are asked for in different turns, then each turn sends its own', async () => {
    const a = await mintGrant();
    const reads = liveGrantReads(t.redis, t.keys);
    await reads.liveGrant(a);
    await reads.liveGrant(a);
    expect(reads.stats()).toEqual({ reads: 2, pipelines: 2 });
  });

  it('when a grant is revoked between two reads, then the second one sees it revoked (nothing is cached)', async () => {
    const a = await mintGrant();
    const reads = liveGrantReads(t.redis, t.keys);
    expect((await reads.liveGrant(a))?.status).toBe('active');
    await store.transitions.revoke(a, 'U0BOSS' as SlackUserId, 'done');
    expect((await reads.liveGrant(a))?.status).toBe('revoked');
  });

  it('when one read of a pipeline fails, then only that read is refused (unavailable); the others get their grants', async () => {
    const a = await mintGrant();
    // Not a hash: HMGET answers WRONGTYPE for this one command only.
    await t.redis.set(t.keys.grant(unknownGrant), 'not a grant');
    const reads = liveGrantReads(t.redis, t.keys);
    const [good, bad, again] = await Promise.allSettled([
      reads.liveGrant(a),
      reads.liveGrant(unknownGrant),
      reads.liveGrant(a),
    ]);
    expect(good.status === 'fulfilled' && good.value?.id).toBe(a);
    expect(again.status === 'fulfilled' && again.value?.id).toBe(a);
    expect(bad.status).toBe('rejected');
    expect(isJitgateError(bad.status === 'rejected' ? bad.reason : undefined, 'unavailable')).toBe(true);
  });

  it('when Redis cannot be reached, then every read of the turn is refused at once (unavailable), alone or in a pipeline', async () => {
    const gone = connectRedis(REDIS_TARGET);
    gone.on('error', () => {});
    await waitReady(gone);
    gone.disconnect();
    const reads = liveGrantReads(gone, t.keys);
    const alone = await reads.liveGrant(unknownGrant).catch((err: unknown) => err);
    expect(isJitgateError(alone, 'unavailable')).toBe(true);
    const several = await Promise.allSettled([reads.liveGrant('g_1'), reads.liveGrant('g_2')]);
    for (const r of several) {
      expect(r.status).toBe('rejected');
      expect(isJitgateError(r.status === 'rejected' ? r.reason : undefined, 'unavailable')).toBe(true);
    }
  });

  // One server's connection (its socket is cut here); the cluster's outage is the fault suite's.
  it.skipIf(ON_CLUSTER)(
    'when the connection comes back after refusing reads, then the next turn reads again (nothing waits on the outage)',
    async () => {
      const a = await mintGrant();
      const flaky = connectRedis(REDIS_URL);
      flaky.on('error', () => {});
      await waitReady(flaky);
      const reads = liveGrantReads(flaky, t.keys);
      // The connection drops and reconnects by itself (retryStrategy): reads meanwhile are refused.
      const reconnected = new Promise<void>((resolve) => flaky.once('ready', () => resolve()));
      flaky.stream.destroy();
      const during = await Promise.allSettled([reads.liveGrant(a), reads.liveGrant(a)]);
      expect(during.every((r) => r.status === 'rejected')).toBe(true);
      await reconnected;
      const after = await Promise.all([reads.liveGrant(a), reads.liveGrant(a)]);
      expect(after.map((g) => g?.id)).toEqual([a, a]);
      flaky.disconnect();
    },
  );
});
