import type { Worker } from 'bullmq';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awaitingDecision } from '../../shared/access/queries.js';
import { type AccessDeps, AccessService } from '../../shared/access/service.js';
import { exportAudit } from '../../shared/audit/chain.js';
import type { SlackUserId } from '../../shared/ids.js';
import { loadPolicy } from '../../shared/policy/index.js';
import { connectRedisForQueue } from '../../shared/redis/connect.js';
import { jobCompleted } from '../support/jobs.js';
import { codeOf } from '../support/outcomes.js';
import type { RecordingNotifier } from '../support/recording-notifier.js';
import { REDIS_TARGET, type TestRedis, testRedis } from '../support/redis.js';
import { closeUseCaseDeps, recordingWorker, useCaseDeps } from '../support/use-cases.js';

const policy = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS, nudgeAfter: 30s, pendingTimeout: 1m }
resources:
  prod:
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /prod }
    approvers: { users: [U0ALICE] }
    escalateAfter: 2s
    escalateTo: { users: [U0BOSS], usergroups: [S0LEADS] }
  wiki:
    upstream: http://127.0.0.1:3002
    match: { pathPrefix: /wiki }
    approvers: { users: [U0ALICE] }
`);
const u = (s: string) => s as SlackUserId;
const DEV = u('U0DEV');

describe('escalation of undecided requests', () => {
  let t: TestRedis;
  let deps: AccessDeps;
  let access: AccessService;
  let notifier: RecordingNotifier;
  let worker: Worker;
  const queue = connectRedisForQueue(REDIS_TARGET);
  afterAll(() => queue.disconnect());

  beforeEach(async () => {
    t = await testRedis();
    deps = useCaseDeps(t, queue, {
      policy: () => policy,
      publicUrl: 'https://access.example.com',
      usergroups: async (g) => (g === 'S0LEADS' ? [u('U0LEAD')] : []),
    });
    access = new AccessService(deps);
    ({ worker, notifier } = recordingWorker(deps, t, queue));
  });
  afterEach(async () => {
    await worker.close();
    await closeUseCaseDeps(deps, t);
  });

  const ask = (resource = 'prod') =>
    access.request({ user: DEV, email: 'dev@example.com', resource, reason: 'INC-5' });

  it('when nobody decides by escalateAfter, then the escalation people get it and may then decide it', async () => {
    const escalated = jobCompleted(worker, (job) => job.name === 'request-escalate');
    const { request } = await ask();
    // Before the escalation, the people it will go to are not approvers.
    expect(await codeOf(access.approve(request.id, u('U0BOSS')))).toBe('not_an_approver');
    expect(await awaitingDecision(deps, u('U0LEAD'))).toEqual([]);
    await escalated;
    const told = notifier.of('escalated');
    expect(told).toHaveLength(1);
    expect(told[0]!.request).toMatchObject({
      status: 'pending',
      escalatedAt: expect.any(Number),
      escalateTo: { users: ['U0BOSS'], usergroups: ['S0LEADS'] },
    });
    expect(told[0]!.at - request.createdAt).toBeGreaterThanOrEqual(2_000);
    expect(notifier.of('refreshApprovalMessage').length).toBeGreaterThan(0);
    // A member of the escalation group sees it waiting, and may approve it.
    expect((await awaitingDecision(deps, u('U0LEAD'))).map((r) => r.id)).toEqual([request.id]);
    const approved = await access.approve(request.id, u('U0LEAD'));
    expect(approved.request).toMatchObject({ status: 'approved', grantStatus: 'active' });
    // Someone neither approver nor escalation person still cannot.
    const other = await ask();
    expect(await codeOf(access.deny(other.request.id, u('U0MALLORY')))).toBe('not_an_approver');
    const events: Record<string, unknown>[] = [];
    for await (const e of exportAudit(t.redis, t.keys)) events.push(e.event);
    expect(events.filter((e) => e.type === 'request.escalated')).toEqual([
      expect.objectContaining({
        actor: 'jitgate',
        requestId: request.id,
        escalatedTo: ['U0BOSS', 'S0LEADS'],
      }),
    ]);
  });

  it('when the request is decided before escalateAfter, then nothing is escalated', async () => {
    const { request } = await ask();
    await access.approve(request.id, u('U0ALICE'));
    await new Promise((r) => setTimeout(r, 2_400));
    expect(notifier.of('escalated')).toEqual([]);
    const stored = await deps.store.queries.getRequest(request.id);
    expect(stored?.escalatedAt).toBeUndefined();
    // The escalation job was removed with the decision, not left to find it decided.
    expect(await deps.scheduler.queue.getJob(`request-escalate-${request.id}`)).toBeUndefined();
  });

  it('when a resource does not escalate, then no escalation job is scheduled', async () => {
    const { request } = await ask('wiki');
    const jobs = await deps.scheduler.queue.getDelayed();
    expect(jobs.map((j) => j.name).sort()).toEqual(['request-nudge', 'request-timeout']);
    expect(request.escalateTo).toBeUndefined();
  });

  it('when the escalation job runs again (a retry after the DMs failed), then the request is escalated once and the DMs are sent again', async () => {
    notifier.failTimes = 1; // the first refresh of the message fails: the job is retried
    const { request } = await ask();
    await notifier.waitFor('escalated', 15_000);
    const stored = await deps.store.queries.getRequest(request.id);
    const first = stored!.escalatedAt;
    expect(first).toBeDefined();
    const events: Record<string, unknown>[] = [];
    for await (const e of exportAudit(t.redis, t.keys)) events.push(e.event);
    expect(events.filter((e) => e.type === 'request.escalated')).toHaveLength(1);
  }, 20_000);
});
