import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AccessDeps, AccessService } from '../../shared/access/service.js';
import type { Clock } from '../../shared/clock.js';
import { AccessStore } from '../../shared/grants/store.js';
import { type GrantId, grantIdOf, newRequestId, type SlackUserId } from '../../shared/ids.js';
import { JobScheduler } from '../../shared/jobs/scheduler.js';
import { loadPolicy } from '../../shared/policy/index.js';
import type { Policy } from '../../shared/policy/types.js';
import { connectRedisForQueue } from '../../shared/redis/connect.js';
import { codeOf } from '../support/outcomes.js';
import { REDIS_TARGET, type TestRedis, testRedis } from '../support/redis.js';
import { closeUseCaseDeps, useCaseDeps } from '../support/use-cases.js';

/**
 * maxDuration holds through extensions: at most one pending extension per grant, and the moment an
 * extension is approved (in the same script that lengthens the grant) the grant is capped so that
 * it has no more than the resource's maximum left. Real Redis; a clock of the test's own, so that
 * "time has passed" needs no waiting.
 */

const H = 3_600_000;
const M = 60_000;
const policyText = (max: string) => `
defaults: { approvalChannel: C0APPROVALS, maxDuration: ${max}, pendingTimeout: 1d, nudgeAfter: 1h }
resources:
  grafana:
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /grafana }
    approvers: { users: [U0ALICE] }
  oncall:
    upstream: http://127.0.0.1:3002
    match: { pathPrefix: /oncall }
    approvers: { users: [U0ALICE] }
    autoApprove: { users: [U0ONCALL] }
  quick:
    upstream: http://127.0.0.1:3003
    match: { pathPrefix: /quick }
    approvers: { users: [U0ALICE] }
    maxDuration: 2h
    autoApprove: { users: [U0ONCALL], maxDuration: 1h }
`;
const u = (s: string) => s as SlackUserId;
const DEV = u('U0DEV');
const ONCALL = u('U0ONCALL');
const ALICE = u('U0ALICE');

describe('extensions and maxDuration', () => {
  let t: TestRedis;
  let deps: AccessDeps;
  let access: AccessService;
  let now: number;
  let policy: Policy;
  const queue = connectRedisForQueue(REDIS_TARGET);
  afterAll(() => queue.disconnect());

  beforeEach(async () => {
    t = await testRedis();
    now = Date.now();
    policy = loadPolicy(policyText('2h'));
    const clock: Clock = { now: () => now };
    deps = useCaseDeps(t, queue, {
      policy: () => policy,
      publicUrl: 'https://access.example.com',
      clock,
      store: new AccessStore(t.redis, { prefix: t.prefix, clock }),
      scheduler: new JobScheduler(queue, t.keys.queuePrefix, clock),
    });
    access = new AccessService(deps);
  });
  afterEach(() => closeUseCaseDeps(deps, t));

  /** A grant of `hours` on grafana for DEV, approved by ALICE. */
  async function grafanaGrant(durationMs = H): Promise<GrantId> {
    const filed = await access.request({
      user: DEV,
      email: 'dev@x',
      resource: 'grafana',
      durationMs,
      reason: 'a',
    });
    await access.approve(filed.request.id, ALICE);
    return grantIdOf(filed.request.id);
  }

  const leftOn = async (gid: GrantId) => Number(await t.redis.hget(t.keys.grant(gid), 'expiresAt')) - now;

  it('when a second extension is asked for while one is pending, then it is refused naming the pending one, and a third as well', async () => {
    const gid = await grafanaGrant(H);
    const first = await access.extend(gid, DEV, 30 * M, '');
    expect(first.change).toBe('filed');
    for (const extra of [30 * M, M, H]) {
      const refused = await access.extend(gid, DEV, extra, '').catch((e) => e);
      expect(refused.code).toBe('extension_pending');
      expect(refused.message).toContain(first.request.id);
      expect(refused.message).toContain(`/access cancel ${first.request.id}`);
    }
    // Once decided, the next one may be asked for.
    await access.deny(first.request.id, ALICE, 'no');
    expect((await access.extend(gid, DEV, 30 * M, '')).change).toBe('filed');
  });

  it('when extensions are stacked below the use case (straight into the store), then approving them never leaves more than the maximum', async () => {
    const gid = await grafanaGrant(H);
    const ext = (durationMs: number) =>
      deps.store.transitions.createRequest({
        id: newRequestId(),
        kind: 'extension',
        requester: DEV,
        email: 'dev@x',
        resource: 'grafana',
        role: 'access',
        durationMs,
        reason: 'stacked',
        breakGlass: false,
        approvalsRequired: 1,
        selfApproval: false,
        pendingTimeoutMs: 24 * H,
        extendsGrant: gid,
      });
    const a = await ext(7 * H);
    // The store itself holds one pending extension per grant, whatever its caller checked.
    expect(await codeOf(ext(7 * H))).toBe('extension_pending');
    expect(await codeOf(ext(M))).toBe('extension_pending');
    const approved = await access.approve(a.request.id, ALICE);
    expect(approved.request).toMatchObject({ capped: true, addedMs: H });
    expect(await leftOn(gid)).toBe(2 * H);
    expect(await t.redis.pttl(t.keys.grant(gid))).toBeLessThanOrEqual(2 * H + 5_000);
  });

  it('when many auto-approved extensions are fired at once, then the grant ends up with at most the maximum left', async () => {
    const filed = await access.request({
      user: ONCALL,
      email: 'o@x',
      resource: 'oncall',
      durationMs: H,
      reason: 'a',
    });
    const gid = grantIdOf(filed.request.id);
    const results = await Promise.all(
      Array.from({ length: 30 }, () => codeOf(access.extend(gid, ONCALL, H, 'more'))),
    );
    expect(results.filter((r) => r === 'ok')).toHaveLength(1);
    expect(results.filter((r) => r !== 'ok').every((r) => r === 'extension_at_maximum')).toBe(true);
    expect(await leftOn(gid)).toBe(2 * H);
    // The grant's other records moved with it, and no later one went past them.
    const original = await access.load(filed.request.id);
    expect((original.expiresAt ?? 0) - now).toBe(2 * H);
  });

  it('when auto-approved extensions race past the auto-approval’s own maximum, then the grant stops there too', async () => {
    const filed = await access.request({
      user: ONCALL,
      email: 'o@x',
      resource: 'quick',
      durationMs: 30 * M,
      reason: 'a',
    });
    expect(filed.change).toBe('granted');
    const gid = grantIdOf(filed.request.id);
    await Promise.all(
      Array.from({ length: 20 }, () => access.extend(gid, ONCALL, 30 * M, 'more').catch((e) => e)),
    );
    expect(await leftOn(gid)).toBe(H);
  });

  it('when auto-approved extensions of different sizes race, then each is capped and the total stays at the maximum', async () => {
    const filed = await access.request({
      user: ONCALL,
      email: 'o@x',
      resource: 'oncall',
      durationMs: 30 * M,
      reason: 'a',
    });
    const gid = grantIdOf(filed.request.id);
    const sizes = [30 * M, 45 * M, H, 80 * M, 90 * M, 5 * M, 10 * M, 20 * M];
    const results = await Promise.all(
      sizes.map((durationMs) => access.extend(gid, ONCALL, durationMs, '').catch((e) => e)),
    );
    expect(await leftOn(gid)).toBeLessThanOrEqual(2 * H);
    const added = results.flatMap((r) => ('request' in r ? [r.request.addedMs ?? 0] : []));
    expect(added.reduce((a, b) => a + b, 0)).toBe(2 * H - 30 * M - 0);
    for (const r of results) if (!('request' in r)) expect(r.code).toBe('extension_at_maximum');
  });

  it('when the grant already has the maximum left at approval, then the approval is refused, the extension stays pending, and it succeeds once time has passed (capped)', async () => {
    const gid = await grafanaGrant(H);
    const ext = await access.extend(gid, DEV, H, '');
    // The maximum is lowered to what the grant has left before anyone decides.
    policy = loadPolicy(policyText('1h'));
    const refused = await access.approve(ext.request.id, ALICE).catch((e) => e);
    expect(refused.code).toBe('extension_at_maximum');
    expect(refused.message).toContain('1h left');
    expect((await access.load(ext.request.id)).status).toBe('pending');
    expect(await leftOn(gid)).toBe(H);
    // 20 minutes later there is room for 20 minutes: approved, capped, and it says so.
    now += 20 * M;
    const approved = await access.approve(ext.request.id, ALICE);
    expect(approved.request).toMatchObject({ status: 'approved', capped: true, addedMs: 20 * M });
    expect(await leftOn(gid)).toBe(H);
  });

  it('when time has passed before the approval, then the full extension fits and is not capped', async () => {
    const gid = await grafanaGrant(H);
    const ext = await access.extend(gid, DEV, H, '');
    now += 30 * M;
    const approved = await access.approve(ext.request.id, ALICE);
    expect(approved.request).toMatchObject({ capped: false, addedMs: H });
    expect(await leftOn(gid)).toBe(90 * M);
  });

  it('when the maximum was raised after filing, then the approval still holds to the maximum the extension was filed under', async () => {
    const gid = await grafanaGrant(90 * M);
    const ext = await access.extend(gid, DEV, 30 * M, '');
    policy = loadPolicy(policyText('8h'));
    // Straight into the store with a larger maximum: the request's own (2h) still binds.
    const approved = await deps.store.transitions.approve(ext.request.id, ALICE, 8 * H);
    expect(approved.decision.outcome).toBe('granted');
    expect(await leftOn(gid)).toBe(2 * H);
  });

  it('when the grant ended while its extension waited, then approving expires the extension and changes no grant', async () => {
    const gid = await grafanaGrant(H);
    const ext = await access.extend(gid, DEV, 30 * M, '');
    await access.revoke(gid, DEV, 'done');
    const refused = await access.approve(ext.request.id, ALICE).catch((e) => e);
    expect(refused.code).toBe('grant_not_active');
    expect((await access.load(ext.request.id)).status).toBe('expired');
    expect(await t.redis.hget(t.keys.userPending(DEV), ext.request.id)).toBeNull();
  });
});
