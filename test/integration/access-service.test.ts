import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AccessDeps, AccessService } from '../../shared/access/service.js';
import { isJitgateError, type JitgateError } from '../../shared/errors.js';
import type { AccessStore } from '../../shared/grants/store.js';
import type { GrantId, SlackUserId } from '../../shared/ids.js';
import type { JobScheduler } from '../../shared/jobs/scheduler.js';
import { messageOf } from '../../shared/messages.js';
import { loadPolicy } from '../../shared/policy/index.js';
import { connectRedisForQueue } from '../../shared/redis/connect.js';
import { keysMatching, REDIS_TARGET, type TestRedis, testRedis } from '../support/redis.js';
import { closeUseCaseDeps, redeemUrlOf, useCaseDeps } from '../support/use-cases.js';

const policy = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS, maxDuration: 2h }
admins: { users: [U0ADMIN] }
resources:
  grafana:
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /grafana }
    approvers: { users: [U0ALICE, U0BOB], usergroups: [S0SRE] }
    roles: { viewer: { methods: [GET] }, editor: { methods: ["*"] } }
    autoApprove: { users: [U0ONCALL] }
  selfie:
    upstream: http://127.0.0.1:3002
    match: { pathPrefix: /selfie }
    approvers: { users: [U0ALICE] }
    selfApproval: true
  admin-api:
    upstream: http://127.0.0.1:3003
    match: { host: admin.example.com }
    approvers: { users: [U0ALICE] }
    breakGlass: true
    requesters: { users: [U0DEV, U0ALICE] }
`);
const u = (s: string) => s as SlackUserId;
const DEV = u('U0DEV');

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (isJitgateError(err)) return err.code;
    throw err;
  }
}

describe('the access use cases', () => {
  let t: TestRedis;
  let access: AccessService;
  let store: AccessStore;
  let scheduler: JobScheduler;
  let deps: AccessDeps;
  const queue = connectRedisForQueue(REDIS_TARGET);
  afterAll(() => queue.disconnect());

  beforeEach(async () => {
    t = await testRedis();
    deps = useCaseDeps(t, queue, {
      policy: () => policy,
      usergroups: async (g) => (g === 'S0SRE' ? [u('U0SRE1')] : []),
      publicUrl: 'https://access.example.com',
    });
    ({ store, scheduler } = deps);
    access = new AccessService(deps);
  });
  afterEach(() => closeUseCaseDeps(deps, t));

  it('when a request is filed, then it is pending with its timeout and nudge scheduled', async () => {
    const filed = await access.request({
      user: DEV,
      email: 'dev@example.com',
      resource: 'grafana',
      reason: 'INC-1',
    });
    expect(filed.request).toMatchObject({ status: 'pending', role: 'viewer', durationMs: 3_600_000 });
    expect(redeemUrlOf(filed)).toBeUndefined();
    const jobs = await scheduler.queue.getDelayed();
    expect(jobs.map((j) => j.name).sort()).toEqual(['request-nudge', 'request-timeout']);
  });

  it('when a request is decided, then its timeout and nudge jobs are removed', async () => {
    const a = await access.request({ user: DEV, email: 'd@x', resource: 'grafana', reason: 'a' });
    const b = await access.request({ user: DEV, email: 'd@x', resource: 'selfie', reason: 'b' });
    expect(await scheduler.queue.getDelayedCount()).toBe(4);
    await access.approve(a.request.id, u('U0ALICE'));
    await access.deny(b.request.id, u('U0ALICE'), 'no');
    // What is left is the grant's one job: its end, which first runs at the reminder.
    const left = await scheduler.queue.getDelayed();
    expect(left.map((j) => [j.name, j.data.remind])).toEqual([['grant-expire', true]]);
  });

  it('when someone who is not an approver approves, then nothing changes', async () => {
    const { request } = await access.request({
      user: DEV,
      email: 'd@x',
      resource: 'grafana',
      reason: 'INC-1',
    });
    expect(await code(access.approve(request.id, u('U0MALLORY')))).toBe('not_an_approver');
    expect((await access.load(request.id)).approvals).toEqual([]);
  });

  it('when a usergroup member approves, then access is granted with a redeem link', async () => {
    const { request } = await access.request({
      user: DEV,
      email: 'd@x',
      resource: 'grafana',
      role: 'editor',
      durationMs: 1_800_000,
      reason: 'INC-2',
    });
    const outcome = await access.approve(request.id, u('U0SRE1'));
    expect(outcome.request).toMatchObject({ status: 'approved', grantStatus: 'active', decidedBy: 'U0SRE1' });
    expect(redeemUrlOf(outcome)).toMatch(
      /^https:\/\/access\.example\.com\/_jitgate\/redeem\?code=[A-Za-z0-9_-]{32}$/,
    );
  });

  it('when the requester approves their own request, then it is refused by default and allowed where the policy says', async () => {
    const own = await access.request({ user: u('U0ALICE'), email: 'a@x', resource: 'grafana', reason: 'x' });
    expect(await code(access.approve(own.request.id, u('U0ALICE')))).toBe('self_approval');
    const selfie = await access.request({
      user: u('U0ALICE'),
      email: 'a@x',
      resource: 'selfie',
      reason: 'x',
    });
    expect((await access.approve(selfie.request.id, u('U0ALICE'))).request.status).toBe('approved');
  });

  it('when input is bad, then each refusal says why and nothing is stored', async () => {
    const base = { user: DEV, email: 'd@x', reason: 'INC-1' };
    expect(await code(access.request({ ...base, resource: 'kibana' }))).toBe('no_such_resource');
    expect(await code(access.request({ ...base, resource: 'grafana', role: 'owner' }))).toBe('no_such_role');
    expect(await code(access.request({ ...base, resource: 'grafana', durationMs: 3 * 3_600_000 }))).toBe(
      'duration_too_long',
    );
    expect(await code(access.request({ ...base, resource: 'grafana', reason: '   ' }))).toBe('input_invalid');
    expect(await code(access.request({ ...base, resource: 'grafana', breakGlass: true }))).toBe(
      'break_glass_not_allowed',
    );
    expect(await code(access.request({ ...base, user: u('U0BOB'), resource: 'admin-api' }))).toBe(
      'not_allowed_to_request',
    );
    expect(await keysMatching(t.redis, t.keys.request('*'))).toEqual([]);
  });

  it('when breaking glass or auto-approved, then access is granted at once', async () => {
    const glass = await access.request({
      user: DEV,
      email: 'd@x',
      resource: 'admin-api',
      reason: 'outage',
      breakGlass: true,
    });
    expect(glass.request).toMatchObject({ status: 'approved', breakGlass: true, grantStatus: 'active' });
    expect(redeemUrlOf(glass)).toBeDefined();
    const auto = await access.request({
      user: u('U0ONCALL'),
      email: 'o@x',
      resource: 'grafana',
      reason: 'pager',
    });
    expect(auto.request).toMatchObject({ status: 'approved', decidedBy: 'jitgate' });
  });

  it('when revoking, then the holder, an approver or an admin may and others may not', async () => {
    const grant = async () => {
      const { request } = await access.request({ user: DEV, email: 'd@x', resource: 'grafana', reason: 'x' });
      return (await access.approve(request.id, u('U0ALICE'))).request.grantId as GrantId;
    };
    const g1 = await grant();
    expect(await code(access.revoke(g1, u('U0MALLORY')))).toBe('not_allowed_to_revoke');
    expect((await access.revoke(g1, DEV)).request.grantStatus).toBe('revoked');
    expect((await access.revoke(g1, DEV)).already).toBe(true);
    expect((await access.revoke(await grant(), u('U0BOB'))).request.endedBy).toBe('U0BOB');
    expect((await access.revoke(await grant(), u('U0ADMIN'))).request.grantStatus).toBe('revoked');
  });

  it('when an extension is approved, then the same grant lasts longer and a new link is sent', async () => {
    const { request } = await access.request({
      user: DEV,
      email: 'd@x',
      resource: 'grafana',
      durationMs: 600_000,
      reason: 'x',
    });
    const granted = await access.approve(request.id, u('U0ALICE'));
    const gid = granted.request.grantId as GrantId;
    expect(await code(access.extend(gid, u('U0BOB'), 600_000, 'more'))).toBe('not_allowed_to_request');
    expect(await code(access.extend(gid, DEV, 2 * 3_600_000, 'more'))).toBe('duration_too_long');
    const ext = await access.extend(gid, DEV, 600_000, 'still debugging');
    expect(ext.request).toMatchObject({ kind: 'extension', status: 'pending', extendsGrant: gid });
    const approved = await access.approve(ext.request.id, u('U0BOB'));
    expect(redeemUrlOf(approved)).toBeDefined();
    const original = await access.load(request.id);
    expect(original.expiresAt).toBe((granted.request.expiresAt ?? 0) + 600_000);
    const ttl = await t.redis.pttl(t.keys.grant(gid));
    expect(ttl).toBeGreaterThan(1_100_000);
  });

  it('when listing, then the user sees active grants and pending requests, and approvers what awaits them', async () => {
    const pending = await access.request({ user: DEV, email: 'd@x', resource: 'grafana', reason: 'a' });
    const other = await access.request({ user: DEV, email: 'd@x', resource: 'selfie', reason: 'b' });
    await access.approve(other.request.id, u('U0ALICE'));
    const list = await access.list(DEV);
    expect(list.pending.map((r) => r.id)).toEqual([pending.request.id]);
    expect(list.grants.map((r) => r.id)).toEqual([other.request.id]);
    expect((await access.awaiting(u('U0BOB'))).map((r) => r.id)).toEqual([pending.request.id]);
    expect(await access.awaiting(DEV)).toEqual([]);
  });

  it('when a grant is no longer active, then extending it and redeeming its link say so in the catalogue’s words', async () => {
    const holder = u('U0ONCALL');
    const { request } = await access.request({
      user: holder,
      email: 'o@x',
      resource: 'grafana',
      reason: 'x',
    });
    const grantId = request.grantId as GrantId;
    const link = new URL(await access.redeemLink(grantId));
    await access.revoke(grantId, holder);
    const refusals: JitgateError[] = [];
    for (const attempt of [
      access.extend(grantId, holder, 60_000, 'more'),
      store.codes.redeem(link.searchParams.get('code') ?? ''),
    ]) {
      await attempt.then(
        () => expect.fail('expected a refusal'),
        (err: JitgateError) => refusals.push(err),
      );
    }
    expect(refusals.map((e) => e.code)).toEqual(['grant_not_active', 'grant_not_active']);
    for (const err of refusals) {
      expect(err.message).toBe(messageOf('grant_not_active', err.fields));
      expect(err.message).toMatch(/^(This grant|Grant g_\w+) is no longer active/);
    }
  });
});
