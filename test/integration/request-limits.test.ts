import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AccessDeps, AccessService } from '../../shared/access/service.js';
import type { Clock } from '../../shared/clock.js';
import { isJitgateError, type JitgateError } from '../../shared/errors.js';
import { AccessStore } from '../../shared/grants/store.js';
import { grantIdOf, type SlackUserId } from '../../shared/ids.js';
import { JobScheduler } from '../../shared/jobs/scheduler.js';
import { loadPolicy } from '../../shared/policy/index.js';
import { connectRedisForQueue } from '../../shared/redis/connect.js';
import { REDIS_TARGET, type TestRedis, testRedis } from '../support/redis.js';
import { closeUseCaseDeps, useCaseDeps } from '../support/use-cases.js';

/**
 * Bounded requests per person: a person may have at most `maxPendingRequests` undecided requests in
 * all and `maxPendingPerResource` for one resource, held in the script that files them (no race
 * past the limit), with a refusal that names the pending ones and how to cancel them.
 */

const M = 60_000;
const policy = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS, pendingTimeout: 30m, nudgeAfter: 10m, maxPendingRequests: 4, maxPendingPerResource: 2 }
resources:
  a: { upstream: http://127.0.0.1:3001, match: { pathPrefix: /a }, approvers: { users: [U0ALICE] } }
  b: { upstream: http://127.0.0.1:3002, match: { pathPrefix: /b }, approvers: { users: [U0ALICE] } }
  c: { upstream: http://127.0.0.1:3003, match: { pathPrefix: /c }, approvers: { users: [U0ALICE] } }
  one:
    upstream: http://127.0.0.1:3004
    match: { pathPrefix: /one }
    approvers: { users: [U0ALICE] }
    maxPendingPerResource: 1
  glass:
    upstream: http://127.0.0.1:3005
    match: { pathPrefix: /glass }
    approvers: { users: [U0ALICE] }
    breakGlass: true
    autoApprove: { users: [U0DEV] }
`);
const u = (s: string) => s as SlackUserId;
const DEV = u('U0DEV');
const ALICE = u('U0ALICE');

describe('limits on undecided requests', () => {
  let t: TestRedis;
  let deps: AccessDeps;
  let access: AccessService;
  let now: number;
  const queue = connectRedisForQueue(REDIS_TARGET);
  afterAll(() => queue.disconnect());

  beforeEach(async () => {
    t = await testRedis();
    now = Date.now();
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

  const ask = (resource: string, user = DEV, reason = 'INC-1') =>
    access.request({ user, email: `${user}@x`, resource, reason });
  const refusalOf = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (err: unknown) => {
        if (isJitgateError(err)) return err as JitgateError;
        throw err;
      },
    );

  it('when a person asks again for a resource past its limit, then it is refused naming the pending one and how to cancel it', async () => {
    const first = await ask('one');
    const refused = await refusalOf(ask('one'));
    expect(refused?.code).toBe('too_many_pending');
    expect(refused?.fields).toMatchObject({ scope: 'resource', resource: 'one', limit: 1 });
    expect(refused?.message).toContain(first.request.id);
    expect(refused?.message).toContain('/access cancel');
    // Nothing was stored for it: still one pending request, one nudge and one timeout.
    expect((await access.list(DEV)).pending.map((r) => r.id)).toEqual([first.request.id]);
    expect(await deps.scheduler.queue.getDelayedCount()).toBe(2);
    // Cancelled, the next one is taken.
    await access.cancel(first.request.id, DEV);
    expect((await ask('one')).change).toBe('filed');
  });

  it('when a person has the most undecided requests in all, then the next is refused naming every one of them', async () => {
    const filed = [await ask('a'), await ask('a'), await ask('b'), await ask('c')];
    const refused = await refusalOf(ask('one'));
    expect(refused?.code).toBe('too_many_pending');
    expect(refused?.fields).toMatchObject({ scope: 'person', limit: 4 });
    for (const f of filed) expect(refused?.message).toContain(f.request.id);
    // Someone else is not held to DEV's limit.
    expect((await ask('one', u('U0OTHER'))).change).toBe('filed');
  });

  it('when requests are decided, denied or expire, then they stop counting', async () => {
    const [a1, a2, b, c] = [await ask('a'), await ask('a'), await ask('b'), await ask('c')];
    await access.approve(a1.request.id, ALICE);
    await access.deny(a2.request.id, ALICE, 'no');
    expect((await ask('a')).change).toBe('filed');
    expect((await ask('a')).change).toBe('filed');
    expect((await refusalOf(ask('a')))?.code).toBe('too_many_pending');
    // Past their timeout (the worker has not run yet), b and c no longer count.
    now += 31 * M;
    expect((await ask('b')).change).toBe('filed');
    expect(await t.redis.hexists(t.keys.userPending(DEV), b.request.id)).toBe(0);
    expect(await t.redis.hexists(t.keys.userPending(DEV), c.request.id)).toBe(0);
  });

  it('when one person fires many requests at once, then exactly the limits are filed and every other one is refused', async () => {
    const resources = ['a', 'b', 'c', 'one'];
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => refusalOf(ask(resources[i % 4]!, DEV, `flood ${i}`))),
    );
    const refused = results.filter((r) => r !== undefined);
    expect(refused).toHaveLength(56);
    expect(refused.every((r) => r?.code === 'too_many_pending')).toBe(true);
    const pending = (await access.list(DEV)).pending;
    expect(pending).toHaveLength(4);
    for (const name of resources) {
      expect(pending.filter((r) => r.resource === name).length).toBeLessThanOrEqual(name === 'one' ? 1 : 2);
    }
    // One timeout and one nudge per filed request, nothing for the refused ones.
    expect(await deps.scheduler.queue.getDelayedCount()).toBe(8);
  });

  it('when an extension waits, then it counts toward the person’s limit; auto-approved and break-glass requests never wait and never count', async () => {
    const granted = await access.request({ user: DEV, email: 'd@x', resource: 'glass', reason: 'auto' });
    expect(granted.change).toBe('granted');
    await ask('a');
    await ask('a');
    await ask('b');
    const ext = await access.extend(grantIdOf(granted.request.id), DEV, 10 * M, '');
    // glass auto-approves DEV, so that extension was granted at once and counts for nothing.
    expect(ext.change).toBe('granted');
    expect((await ask('c')).change).toBe('filed');
    expect((await refusalOf(ask('c')))?.code).toBe('too_many_pending');
    const glass = await access.request({
      user: DEV,
      email: 'd@x',
      resource: 'glass',
      reason: 'x',
      breakGlass: true,
    });
    expect(glass.change).toBe('granted');
  });

  it('when a pending extension is one of them, then the refusal names it as more time on its grant', async () => {
    const one = await ask('one');
    await access.approve(one.request.id, ALICE);
    const gid = grantIdOf(one.request.id);
    const ext = await access.extend(gid, DEV, 10 * M, '');
    await ask('a');
    await ask('a');
    await ask('b');
    const refused = await refusalOf(ask('c'));
    expect(refused?.message).toContain(`${ext.request.id} (more time on ${gid})`);
  });
});

describe('the limits in the policy', () => {
  const base = (extra: string) => `
defaults: { approvalChannel: C0APPROVALS${extra} }
resources:
  a: { upstream: http://127.0.0.1:3001, match: { pathPrefix: /a }, approvers: { users: [U0ALICE] } }
`;
  const problems = (text: string) => {
    try {
      loadPolicy(text);
      return [];
    } catch (err) {
      return (err as JitgateError).fields.problems as { path: string; message: string }[];
    }
  };

  it('when the limits are left out, then a person may have 5 undecided requests, 1 per resource, and needs an e-mail', () => {
    const a = loadPolicy(base('')).resources.get('a');
    expect(a).toMatchObject({ maxPendingRequests: 5, maxPendingPerResource: 1, requireEmail: true });
  });

  it('when a limit is not a whole number of at least 1, then the policy is refused naming the key', () => {
    for (const bad of ['0', '-1', '1.5', '"5"', '100000']) {
      const found = problems(base(`, maxPendingRequests: ${bad}`));
      expect(found.map((p) => p.path)).toEqual(['defaults.maxPendingRequests']);
    }
    expect(problems(base(', maxPendingPerResource: 0')).map((p) => p.path)).toEqual([
      'defaults.maxPendingPerResource',
    ]);
    expect(problems(base(', requireEmail: "no"')).map((p) => p.path)).toEqual(['defaults.requireEmail']);
  });
});
