import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AccessDeps,
  approveRequest,
  cancelRequest,
  denyRequest,
  endGrant,
  extendGrant,
  requestAccess,
  revokeGrant,
  timeOutRequest,
} from '../../shared/access/index.js';
import { type GrantId, newRequestId, type SlackUserId } from '../../shared/ids.js';
import { loadPolicy } from '../../shared/policy/index.js';
import { connectRedisForQueue } from '../../shared/redis/connect.js';
import { REDIS_TARGET, type TestRedis, testRedis } from '../support/redis.js';
import { newRequestInput } from '../support/requests.js';
import { closeUseCaseDeps, redeemUrlOf, useCaseDeps } from '../support/use-cases.js';

/** The use cases' returned effects, against real Redis and with no Slack at all. */

const policy = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS, maxDuration: 2h }
admins: { users: [U0ADMIN] }
resources:
  grafana:
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /grafana }
    approvers: { users: [U0ALICE, U0BOB] }
    approvalsRequired: 2
  admin-api:
    upstream: http://127.0.0.1:3003
    match: { host: admin.example.com }
    approvers: { users: [U0ALICE] }
    approvalChannel: C0ADMINS
    breakGlass: true
    autoApprove: { users: [U0ONCALL] }
`);
const u = (s: string) => s as SlackUserId;
const DEV = u('U0DEV');
const ALICE = u('U0ALICE');
const BOB = u('U0BOB');
const LINK = /^https:\/\/access\.example\.com\/_jitgate\/redeem\?code=[A-Za-z0-9_-]{32}$/;

describe('the use cases say what must follow', () => {
  let t: TestRedis;
  let deps: AccessDeps;
  const queue = connectRedisForQueue(REDIS_TARGET);
  afterAll(() => queue.disconnect());

  beforeEach(async () => {
    t = await testRedis();
    deps = useCaseDeps(t, queue, { policy: () => policy, publicUrl: 'https://access.example.com' });
  });
  afterEach(() => closeUseCaseDeps(deps, t));

  const file = (resource = 'grafana', user = DEV) =>
    requestAccess(deps, { user, email: 'd@x', resource, reason: 'INC-1' });

  async function granted(): Promise<GrantId> {
    const { request } = await file();
    await approveRequest(deps, request.id, ALICE);
    return (await approveRequest(deps, request.id, BOB)).request.grantId as GrantId;
  }

  it('when a request is filed, then its approval message is posted (approvers asked by DM if it cannot be) and the requester’s home refreshed', async () => {
    const { request, resource, change, effects } = await file();
    expect(change).toBe('filed');
    expect(resource?.name).toBe('grafana');
    expect(effects).toEqual([
      { type: 'post-approval-message', requestId: request.id, nudgeIfUnposted: true },
      { type: 'refresh-homes', users: [DEV] },
    ]);
  });

  it('when someone breaks glass, then the link goes first, then the message, then the loud alert in the resource’s channel, then the approvers are asked to review it', async () => {
    const outcome = await requestAccess(deps, {
      user: DEV,
      email: 'd@x',
      resource: 'admin-api',
      reason: 'outage',
      breakGlass: true,
    });
    const id = outcome.request.id;
    expect(outcome.change).toBe('granted');
    expect(outcome.effects).toEqual([
      {
        type: 'send-redeem-link',
        requestId: id,
        to: DEV,
        grantId: outcome.request.grantId,
        redeemUrl: redeemUrlOf(outcome),
      },
      { type: 'post-approval-message', requestId: id, nudgeIfUnposted: false },
      { type: 'announce-break-glass', requestId: id, channel: 'C0ADMINS' },
      { type: 'ask-review', requestId: id, reminder: false },
      { type: 'refresh-homes', users: [DEV] },
    ]);
    expect(redeemUrlOf(outcome)).toMatch(LINK);
  });

  it('when an auto-approved requester asks, then access is granted with no alert', async () => {
    const { change, effects } = await file('admin-api', u('U0ONCALL'));
    expect(change).toBe('granted');
    expect(effects.map((e) => e.type)).toEqual([
      'send-redeem-link',
      'post-approval-message',
      'refresh-homes',
    ]);
  });

  it('when approvals come in, then the first updates the message, a repeat changes nothing, and the last sends the link', async () => {
    const { request } = await file();
    const first = await approveRequest(deps, request.id, ALICE);
    expect(first.change).toBe('approved');
    expect(first.request.status).toBe('pending');
    expect(first.effects).toEqual([
      { type: 'update-approval-message', requestId: request.id },
      { type: 'refresh-homes', users: [DEV, ALICE] },
    ]);
    const again = await approveRequest(deps, request.id, ALICE);
    expect(again).toMatchObject({ change: 'already-approved', effects: [] });
    const last = await approveRequest(deps, request.id, BOB);
    expect(last.request.status).toBe('approved');
    expect(last.effects).toEqual([
      {
        type: 'send-redeem-link',
        requestId: request.id,
        to: DEV,
        grantId: last.request.grantId,
        redeemUrl: redeemUrlOf(last),
      },
      { type: 'update-approval-message', requestId: request.id },
      { type: 'refresh-homes', users: [DEV, BOB] },
    ]);
  });

  it('when an extension is approved, then the original request’s message is updated too (its expiry moved)', async () => {
    const grantId = await granted();
    const original = (await deps.store.queries.getRequestOfGrant(grantId))!;
    const ext = await extendGrant(deps, { grantId, user: DEV, durationMs: 600_000, reason: 'more' });
    expect(ext.change).toBe('filed');
    expect(ext.effects[0]).toEqual({
      type: 'post-approval-message',
      requestId: ext.request.id,
      nudgeIfUnposted: true,
    });
    await approveRequest(deps, ext.request.id, ALICE);
    const done = await approveRequest(deps, ext.request.id, BOB);
    expect(done.effects.map((e) => e.type)).toEqual([
      'send-redeem-link',
      'update-approval-message',
      'update-approval-message',
      'refresh-homes',
    ]);
    expect(done.effects[2]).toEqual({ type: 'update-approval-message', requestId: original.id });
  });

  it('when a request is denied, then the message is updated and the requester told', async () => {
    const { request } = await file();
    const { change, effects } = await denyRequest(deps, request.id, ALICE, 'no');
    expect(change).toBe('denied');
    expect(effects).toEqual([
      { type: 'update-approval-message', requestId: request.id },
      { type: 'tell-denied', requestId: request.id, to: DEV },
      { type: 'refresh-homes', users: [DEV, ALICE] },
    ]);
  });

  it('when the requester cancels, then only the message and their home change', async () => {
    const { request } = await file();
    const { change, effects } = await cancelRequest(deps, request.id, DEV);
    expect(change).toBe('cancelled');
    expect(effects).toEqual([
      { type: 'update-approval-message', requestId: request.id },
      { type: 'refresh-homes', users: [DEV] },
    ]);
  });

  it('when a grant is revoked, then the holder is told once; revoking again says so and does nothing', async () => {
    const grantId = await granted();
    const revoked = await revokeGrant(deps, grantId, u('U0ADMIN'), 'done');
    const id = revoked.request.id;
    expect(revoked.change).toBe('revoked');
    expect(revoked.effects).toEqual([
      { type: 'update-approval-message', requestId: id },
      { type: 'tell-grant-ended', requestId: id, to: DEV },
      { type: 'refresh-homes', users: [DEV, u('U0ADMIN')] },
    ]);
    expect(await revokeGrant(deps, grantId, DEV)).toMatchObject({ change: 'already-revoked', effects: [] });
  });

  it('when a use case refuses, then there are no effects to carry out (it throws before saving)', async () => {
    const { request } = await file();
    await expect(approveRequest(deps, request.id, DEV)).rejects.toMatchObject({ code: 'not_an_approver' });
    await expect(cancelRequest(deps, request.id, ALICE)).rejects.toMatchObject({
      code: 'not_allowed_to_cancel',
    });
    expect((await deps.store.queries.getRequest(request.id))?.status).toBe('pending');
  });

  const until = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now()) + 5));

  it('when an undecided request times out, then the requester is told and the message updated, and a repeat still owes both', async () => {
    const id = newRequestId();
    await deps.store.transitions.createRequest(
      newRequestInput({ id, requester: DEV, pendingTimeoutMs: 100 }),
    );
    expect(await timeOutRequest(deps, id)).toMatchObject({ change: 'unchanged', effects: [] });
    await until((await deps.store.queries.getRequest(id))!.pendingUntil);
    const timedOut = await timeOutRequest(deps, id);
    const owed = [
      { type: 'tell-request-expired', requestId: id, to: DEV },
      { type: 'update-approval-message', requestId: id },
    ];
    expect(timedOut).toMatchObject({ change: 'expired', effects: owed });
    expect(await timeOutRequest(deps, id)).toMatchObject({ change: 'unchanged', effects: owed });
  });

  it('when a grant reaches its end, then the holder is told; early, it is due again; extended, its new end is scheduled', async () => {
    const id = newRequestId();
    const reminderBeforeMs = () => 0;
    const input = newRequestInput({ id, requester: DEV, durationMs: 300 });
    const { decision } = await deps.store.transitions.createRequest(input, 'jitgate');
    if (decision.outcome !== 'granted') throw new Error('expected a grant');
    const due = { requestId: id, grantId: decision.grantId, expiresAt: decision.expiresAt };
    expect(await endGrant({ ...deps, reminderBeforeMs }, due)).toMatchObject({
      change: 'unchanged',
      dueAt: decision.expiresAt,
    });
    const stale = { ...due, expiresAt: due.expiresAt - 1_000 };
    expect(await endGrant({ ...deps, reminderBeforeMs }, stale)).toMatchObject({
      extendedTo: decision.expiresAt,
    });
    const jobs = await deps.scheduler.queue.getDelayed();
    expect(jobs.map((j) => j.name)).toContain('grant-expire');
    await until(decision.expiresAt);
    const ended = await endGrant({ ...deps, reminderBeforeMs }, due);
    expect(ended).toMatchObject({
      change: 'expired',
      effects: [
        { type: 'tell-grant-ended', requestId: id, to: DEV },
        { type: 'update-approval-message', requestId: id },
      ],
    });
    expect((await endGrant({ ...deps, reminderBeforeMs }, due)).change).toBe('unchanged');
  });
});
