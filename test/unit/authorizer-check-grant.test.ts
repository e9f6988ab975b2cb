import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type GrantReader, grantCheck } from '../../authorizer/checks/grant.js';
import { statusFor } from '../../authorizer/refusals.js';
import { systemClock } from '../../shared/clock.js';
import { AccessStore } from '../../shared/grants/store.js';
import type { GrantId, SlackUserId } from '../../shared/ids.js';
import { connectRedis } from '../../shared/redis/connect.js';
import { REDIS_URL, type TestRedis, testRedis, waitReady } from '../support/redis.js';
import { newRequestInput } from '../support/requests.js';
import { routed, wiki } from './authorizer-checks-fixtures.js';

let t: TestRedis;
let store: AccessStore;

beforeEach(async () => {
  t = await testRedis();
  store = new AccessStore(t.redis, { prefix: t.prefix, clock: systemClock });
});
afterEach(() => t.cleanup());

/** A grant through the real lifecycle: alice asks for grafana/editor, the approver approves. */
async function mintGrant(): Promise<{ grantId: GrantId; expiresAt: number }> {
  const req = newRequestInput({ role: 'editor' });
  await store.transitions.createRequest(req);
  const { decision } = await store.transitions.approve(req.id, 'U0BOSS' as SlackUserId);
  if (decision.outcome !== 'granted') throw new Error(`not granted: ${decision.outcome}`);
  return decision;
}

/** An attempt whose token check passed for alice's grafana/editor grant. */
const identified = (grantId: GrantId, over: Parameters<typeof routed>[0] = {}) =>
  routed({
    user: 'U0ALICE' as SlackUserId,
    email: 'alice@example.com',
    grantId,
    roleName: 'editor',
    ...over,
  });

/** The real store, with its reads counted. */
function counting(reader: GrantReader): GrantReader & { reads: number } {
  const counted = {
    reads: 0,
    liveGrant(grantId: string) {
      counted.reads += 1;
      return reader.liveGrant(grantId);
    },
  };
  return counted;
}

describe('the grant check (real Redis)', () => {
  it("when the grant is active and is exactly the identity's, then it passes with one read and the grant's expiry", async () => {
    const { grantId, expiresAt } = await mintGrant();
    const reader = counting(store.queries);
    const ctx = identified(grantId);
    expect(await grantCheck({ store: reader, clock: systemClock })(ctx)).toBeUndefined();
    expect(ctx.expiresAt).toBe(expiresAt);
    expect(reader.reads).toBe(1);
  });

  it('when the grant was revoked, then grant_revoked (401) on the very next check', async () => {
    const { grantId } = await mintGrant();
    const check = grantCheck({ store: store.queries, clock: systemClock });
    expect(await check(identified(grantId))).toBeUndefined();
    await store.transitions.revoke(grantId, 'U0BOSS' as SlackUserId, 'done');
    const refused = await check(identified(grantId));
    expect(refused?.code).toBe('grant_revoked');
    expect(statusFor(refused!.code)).toBe(401);
    expect(refused?.hint).toBe('/access grafana/editor 2h <reason>');
  });

  it('when Redis has no such grant (its key expired with it), then grant_expired', async () => {
    const ctx = identified(`g_${'z'.repeat(26)}` as GrantId);
    expect((await grantCheck({ store: store.queries, clock: systemClock })(ctx))?.code).toBe('grant_expired');
    expect(ctx.expiresAt).toBeUndefined();
  });

  it('when the grant is still in Redis but its time is up, then grant_expired', async () => {
    const { grantId, expiresAt } = await mintGrant();
    const later = { now: () => expiresAt };
    expect((await grantCheck({ store: store.queries, clock: later })(identified(grantId)))?.code).toBe(
      'grant_expired',
    );
  });

  it.each([
    ['user', { user: 'U0MALLORY' as SlackUserId }],
    ['e-mail', { email: 'mallory@example.com' }],
    ['role', { roleName: 'viewer' }],
    ['resource', { resource: wiki }],
  ])(
    "when the identity differs from the grant in its %s, then token_invalid: the grant is not that token's",
    async (_, over) => {
      const { grantId } = await mintGrant();
      const refused = await grantCheck({ store: store.queries, clock: systemClock })(
        identified(grantId, over),
      );
      expect(refused).toMatchObject({
        code: 'token_invalid',
        message: 'The access token does not match its grant.',
      });
    },
  );

  it('when Redis cannot be reached, then unavailable (503): no Redis, no access', async () => {
    const { grantId } = await mintGrant();
    const gone = connectRedis(REDIS_URL);
    gone.on('error', () => {});
    await waitReady(gone);
    gone.disconnect();
    const offline = new AccessStore(gone, { prefix: t.prefix, clock: systemClock });
    const refused = await grantCheck({ store: offline.queries, clock: systemClock })(identified(grantId));
    expect(refused?.code).toBe('unavailable');
    expect(statusFor(refused!.code)).toBe(503);
  });

  it('when no identity check ran before it, then it refuses (internal_error) without reading Redis', async () => {
    const reader = counting(store.queries);
    const refused = await grantCheck({ store: reader, clock: systemClock })(routed());
    expect(refused?.code).toBe('internal_error');
    expect(reader.reads).toBe(0);
  });
});
