import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../shared/clock.js';
import { AccessStore, grantIdOf } from '../../shared/grants/store.js';
import type { SlackUserId } from '../../shared/ids.js';
import { type TestRedis, testRedis } from '../support/redis.js';
import { newRequestInput } from '../support/requests.js';

const ALICE = 'U0ALICE' as SlackUserId;
const BOB = 'U0BOB' as SlackUserId;
const SLACK_ALICE = { kind: 'slack', user: ALICE, team: 'T0ACME' } as const;
const EMAIL_ALICE = { kind: 'email', email: 'alice@example.com' } as const;

describe("a person's grants for a resource (the signed-in hot path's index)", () => {
  let t: TestRedis;
  let store: AccessStore;
  beforeEach(async () => {
    t = await testRedis();
    store = new AccessStore(t.redis, { prefix: t.prefix, clock: systemClock });
  });
  afterEach(async () => t.cleanup());

  it('when a grant is minted, then it is found by the Slack user id and by the lower-cased e-mail, with role, expiry and workspace', async () => {
    const r = newRequestInput({ email: 'Alice@Example.com', team: 'T0ACME', role: 'editor' });
    const { decision } = await store.transitions.createRequest(r, 'jitgate');
    if (decision.outcome !== 'granted') throw new Error('not granted');
    const expected = {
      id: grantIdOf(r.id),
      status: 'active',
      expiresAt: decision.expiresAt,
      role: 'editor',
      user: ALICE,
      team: 'T0ACME',
      email: 'Alice@Example.com',
    };
    expect(await store.queries.personAccess('grafana', SLACK_ALICE, 'sid-1')).toEqual({
      ended: false,
      grants: [expected],
    });
    expect(await store.queries.personAccess('grafana', EMAIL_ALICE, 'sid-1')).toEqual({
      ended: false,
      grants: [expected],
    });
    // Another resource, another person: nothing.
    expect((await store.queries.personAccess('wiki', SLACK_ALICE, 'sid-1')).grants).toEqual([]);
    expect(
      (await store.queries.personAccess('grafana', { kind: 'slack', user: BOB, team: 'T0ACME' }, 's')).grants,
    ).toEqual([]);
    // The key lives a day past the grant's end.
    const ttl = await t.redis.pttl(t.keys.accessByUser('grafana', ALICE));
    expect(ttl).toBeGreaterThan(86_400_000);
    expect(ttl).toBeLessThanOrEqual(86_400_000 + 60_000);
  });

  it('when the session was ended by a logout, then the same read says so', async () => {
    await t.redis.set(t.keys.sessionEnded('sid-2'), '1');
    expect(await store.queries.personAccess('grafana', EMAIL_ALICE, 'sid-2')).toEqual({
      ended: true,
      grants: [],
    });
  });

  it('when grants are revoked, expire or are extended, then their entries say so (both keys), and the rest stay', async () => {
    const a = newRequestInput({ durationMs: 60_000 });
    const b = newRequestInput({ role: 'editor', durationMs: 120_000 });
    const short = newRequestInput({ durationMs: 1 });
    for (const r of [a, b, short]) await store.transitions.createRequest(r, 'jitgate');
    await store.transitions.revoke(grantIdOf(a.id), BOB, 'done');
    await new Promise((r) => setTimeout(r, 20));
    expect((await store.transitions.expireGrant(short.id, grantIdOf(short.id))).outcome).toBe('expired');
    const ext = newRequestInput({ kind: 'extension', extendsGrant: grantIdOf(b.id), durationMs: 30_000 });
    await store.transitions.createRequest(ext, 'jitgate');

    for (const holder of [SLACK_ALICE, EMAIL_ALICE]) {
      const { grants } = await store.queries.personAccess('grafana', holder, 'sid');
      const byId = new Map(grants.map((g) => [g.id, g]));
      expect(byId.get(grantIdOf(a.id))?.status).toBe('revoked');
      expect(byId.get(grantIdOf(short.id))?.status).toBe('expired');
      const extended = byId.get(grantIdOf(b.id))!;
      expect(extended).toMatchObject({ status: 'active', role: 'editor' });
      expect(extended.expiresAt).toBe((await store.queries.liveGrant(grantIdOf(b.id)))!.expiresAt);
    }
  });

  it('when a request has no e-mail, then its grant is found by the Slack user id only', async () => {
    const r = newRequestInput({ email: '' });
    await store.transitions.createRequest(r, 'jitgate');
    expect((await store.queries.personAccess('grafana', SLACK_ALICE, 's')).grants).toHaveLength(1);
    expect(await t.redis.exists(t.keys.accessByEmail('grafana', ''))).toBe(0);
  });

  it('when an approval mints the grant, then it is indexed as an auto-approved one is', async () => {
    const r = newRequestInput();
    await store.transitions.createRequest(r);
    expect((await store.queries.personAccess('grafana', EMAIL_ALICE, 's')).grants).toEqual([]);
    await store.transitions.approve(r.id, BOB);
    expect((await store.queries.personAccess('grafana', EMAIL_ALICE, 's')).grants.map((g) => g.id)).toEqual([
      grantIdOf(r.id),
    ]);
  });
});
