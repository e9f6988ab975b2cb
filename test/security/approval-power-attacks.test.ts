import type { Worker } from 'bullmq';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awaitingDecision } from '../../shared/access/queries.js';
import { type AccessDeps, AccessService } from '../../shared/access/service.js';
import type { SlackUserId } from '../../shared/ids.js';
import { loadPolicy } from '../../shared/policy/index.js';
import type { Policy } from '../../shared/policy/types.js';
import { connectRedisForQueue } from '../../shared/redis/connect.js';
import { jobCompleted } from '../support/jobs.js';
import { codeOf } from '../support/outcomes.js';
import { REDIS_TARGET, type TestRedis, testRedis } from '../support/redis.js';
import { closeUseCaseDeps, recordingWorker, useCaseDeps } from '../support/use-cases.js';
import { countFigures } from './figures.js';

/**
 * Who may decide a request, attacked through the approval workflow's newer paths (real Redis, the
 * real worker): an escalation person taken out of the policy keeps no power over the requests that
 * were escalated to them (as an approver taken out loses it at once), nor does someone added later
 * gain it over requests filed before; the requester named among the escalation people cannot
 * approve their own request; a break-glass holder cannot review their own grant in any role. And
 * the step-up and auto-approval rules, gamed: approvals without the confirmation, a confirmation by
 * someone taken out of the policy, role names in other spellings, durations at the boundary, and an
 * extension that counts what the grant would have left.
 */
countFigures('attack');

const u = (s: string) => s as SlackUserId;
const DEV = u('U0DEV');

const policyText = (escalateTo: string, extra = '') => `
defaults: { approvalChannel: C0APPROVALS, nudgeAfter: 30s, pendingTimeout: 1m }
admins: { users: [U0ADMIN, U0DEV] }
resources:
  prod:
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /prod }
    approvers: { users: [U0ALICE] }
    breakGlass: true
${extra}${escalateTo ? `    escalateAfter: 1s\n    escalateTo: ${escalateTo}\n` : ''}`;

describe('escalation power follows the policy in force', () => {
  let t: TestRedis;
  let deps: AccessDeps;
  let access: AccessService;
  let worker: Worker;
  let policy: Policy;
  const queue = connectRedisForQueue(REDIS_TARGET);
  afterAll(() => queue.disconnect());

  beforeEach(async () => {
    t = await testRedis();
    policy = loadPolicy(policyText('{ users: [U0BOSS, U0DEV], usergroups: [S0LEADS] }'));
    deps = useCaseDeps(t, queue, {
      policy: () => policy,
      publicUrl: 'https://access.example.com',
      usergroups: async (g) => (g === 'S0LEADS' ? [u('U0LEAD')] : []),
    });
    access = new AccessService(deps);
    ({ worker } = recordingWorker(deps, t, queue));
  });
  afterEach(async () => {
    await worker.close();
    await closeUseCaseDeps(deps, t);
  });

  async function escalatedRequest(user = DEV) {
    const escalated = jobCompleted(worker, (job) => job.name === 'request-escalate');
    const { request } = await access.request({
      user,
      email: 'dev@example.com',
      resource: 'prod',
      reason: 'INC-5',
    });
    await escalated;
    return request;
  }

  it('when an escalation person is taken out of the policy, then they can no longer approve, deny or see what was escalated to them', async () => {
    const request = await escalatedRequest();
    expect((await awaitingDecision(deps, u('U0BOSS'))).map((r) => r.id)).toEqual([request.id]);
    policy = loadPolicy(policyText('{ users: [U0NEWBOSS] }'));
    expect(await codeOf(access.approve(request.id, u('U0BOSS')))).toBe('not_an_approver');
    expect(await codeOf(access.deny(request.id, u('U0BOSS')))).toBe('not_an_approver');
    expect(await awaitingDecision(deps, u('U0BOSS'))).toEqual([]);
    // Nor does someone named only after it was filed gain it.
    expect(await codeOf(access.approve(request.id, u('U0NEWBOSS')))).toBe('not_an_approver');
    expect((await deps.store.queries.getRequest(request.id))?.status).toBe('pending');
  });

  it('when the resource stops escalating, then nobody it was escalated to may decide it', async () => {
    const request = await escalatedRequest();
    policy = loadPolicy(policyText(''));
    for (const who of ['U0BOSS', 'U0LEAD'])
      expect(await codeOf(access.approve(request.id, u(who))), who).toBe('not_an_approver');
    // The approvers still may.
    expect((await access.approve(request.id, u('U0ALICE'))).request.status).toBe('approved');
  });

  it('when someone stays named in the policy, then they keep deciding what was escalated to them', async () => {
    const request = await escalatedRequest();
    policy = loadPolicy(policyText('{ users: [U0BOSS] }'));
    expect((await access.approve(request.id, u('U0BOSS'))).request.status).toBe('approved');
  });

  it('when the requester is among the escalation people, then they cannot approve their own request', async () => {
    const request = await escalatedRequest(DEV);
    expect(await codeOf(access.approve(request.id, DEV))).toBe('self_approval');
  });

  it('when the break-glass holder is an admin, then they cannot review their own grant, by either verdict', async () => {
    const { request } = await access.request({
      user: DEV,
      email: 'dev@example.com',
      resource: 'prod',
      reason: 'INC-9 outage',
      breakGlass: true,
    });
    const grantId = request.grantId!;
    expect(await codeOf(access.reviewable(grantId, DEV))).toBe('not_allowed_to_review');
    for (const verdict of ['justified', 'flagged'] as const)
      expect(await codeOf(access.review(grantId, DEV, verdict, 'fine'))).toBe('not_allowed_to_review');
    expect((await deps.store.queries.getRequest(request.id))?.review).toBeUndefined();
  });
});

describe('step-up and auto-approval, gamed', () => {
  let t: TestRedis;
  let deps: AccessDeps;
  let access: AccessService;
  let policy: Policy;
  const queue = connectRedisForQueue(REDIS_TARGET);
  afterAll(() => queue.disconnect());
  const text = (approvers: string) => `
defaults: { approvalChannel: C0APPROVALS, nudgeAfter: 30s, pendingTimeout: 1m }
resources:
  vault:
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /vault }
    approvers: { users: [${approvers}] }
    approverStepUp: true
  grafana:
    upstream: http://127.0.0.1:3002
    match: { pathPrefix: /grafana }
    approvers: { users: [U0ALICE] }
    maxDuration: 4h
    roles:
      viewer: { methods: [GET] }
      editor: { methods: ["*"] }
    autoApprove: { roles: [viewer], maxDuration: 1h }
`;
  beforeEach(async () => {
    t = await testRedis();
    policy = loadPolicy(text('U0ALICE, U0BOSS'));
    deps = useCaseDeps(t, queue, { policy: () => policy, publicUrl: 'https://access.example.com' });
    access = new AccessService(deps);
  });
  afterEach(() => closeUseCaseDeps(deps, t));

  const ask = (resource: string, more: { role?: string; durationMs?: number } = {}) =>
    access.request({ user: DEV, email: 'dev@example.com', resource, reason: 'INC-5', ...more });

  it('when an approval of a step-up resource comes without the confirmation, then it is refused whoever sends it', async () => {
    const { request } = await ask('vault');
    for (const who of ['U0ALICE', 'U0BOSS'])
      expect(await codeOf(access.approve(request.id, u(who))), who).toBe('step_up_required');
    expect((await deps.store.queries.getRequest(request.id))?.approvals).toEqual([]);
  });

  it('when the approver is taken out of the policy between the click and the confirmation, then the confirmed approval is refused', async () => {
    const { request } = await ask('vault');
    policy = loadPolicy(text('U0ALICE'));
    expect(await codeOf(access.approve(request.id, u('U0BOSS'), { steppedUp: true }))).toBe(
      'not_an_approver',
    );
    expect((await access.approve(request.id, u('U0ALICE'), { steppedUp: true })).request.status).toBe(
      'approved',
    );
  });

  it('when the auto-approved role is asked in another spelling, then it is that role and no other; a role it does not cover goes to the approvers', async () => {
    expect((await ask('grafana', { role: 'VIEWER', durationMs: 60 * 60_000 })).change).toBe('granted');
    const editor = await ask('grafana', { role: 'editor', durationMs: 10 * 60_000 });
    expect(editor.change).toBe('filed');
    await access.cancel(editor.request.id, DEV);
    for (const role of ['viewer ', 'viewer\u200b', 'vіewer' /* Cyrillic і */])
      expect(await codeOf(ask('grafana', { role, durationMs: 60_000 })), role).toBe('no_such_role');
  });

  it('when the duration is at the auto-approval maximum it is granted, a millisecond more goes to the approvers, and an extension counts what the grant would have', async () => {
    const exact = await ask('grafana', { role: 'viewer', durationMs: 60 * 60_000 });
    expect(exact.change).toBe('granted');
    const extended = await access.extend(exact.request.grantId!, DEV, 5 * 60_000, '');
    expect(extended.change).toBe('filed');
    await access.cancel(extended.request.id, DEV);
    await access.revoke(exact.request.grantId!, u('U0ALICE'));
    const over = await ask('grafana', { role: 'viewer', durationMs: 60 * 60_000 + 1 });
    expect(over.change).toBe('filed');
  });
});
