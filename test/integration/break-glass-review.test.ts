import type { Worker } from 'bullmq';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { effectsOf } from '../../shared/access/effects.js';
import { type AccessDeps, AccessService } from '../../shared/access/service.js';
import type { SlackUserId } from '../../shared/ids.js';
import { loadPolicy } from '../../shared/policy/index.js';
import { connectRedisForQueue } from '../../shared/redis/connect.js';
import { codeOf } from '../support/outcomes.js';
import type { RecordingNotifier } from '../support/recording-notifier.js';
import { REDIS_TARGET, type TestRedis, testRedis } from '../support/redis.js';
import { closeUseCaseDeps, recordingWorker, useCaseDeps } from '../support/use-cases.js';

const policy = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS, reviewRemindEvery: 1s }
admins: { users: [U0ADMIN] }
resources:
  admin-api:
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /admin-api }
    approvers: { users: [U0ALICE] }
    breakGlass: true
`);
const u = (s: string) => s as SlackUserId;
const GINA = u('U0GINA');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('reviewing break-glass grants', () => {
  let t: TestRedis;
  let deps: AccessDeps;
  let access: AccessService;
  let notifier: RecordingNotifier;
  let worker: Worker;
  const queue = connectRedisForQueue(REDIS_TARGET);
  afterAll(() => queue.disconnect());
  beforeEach(async () => {
    t = await testRedis();
    deps = useCaseDeps(t, queue, { policy: () => policy, publicUrl: 'https://access.example.com' });
    access = new AccessService(deps);
    ({ worker, notifier } = recordingWorker(deps, t, queue));
  });
  afterEach(async () => {
    await worker.close();
    await closeUseCaseDeps(deps, t);
  });

  const breakGlass = () =>
    access.request({
      user: GINA,
      email: 'gina@example.com',
      resource: 'admin-api',
      reason: 'outage',
      breakGlass: true,
    });

  it('when someone breaks glass, then the approvers are asked at once and reminded until someone reviews it', async () => {
    const granted = await breakGlass();
    expect(effectsOf(granted.effects, 'ask-review')).toEqual([
      { type: 'ask-review', requestId: granted.request.id, reminder: false },
    ]);
    expect((await deps.store.queries.unreviewedBreakGlass()).map((r) => r.id)).toEqual([granted.request.id]);
    await expect
      .poll(() => notifier.of('reviewReminder').length, { timeout: 6_000 })
      .toBeGreaterThanOrEqual(2);
    const reviewed = await access.review(
      granted.request.grantId!,
      u('U0ALICE'),
      'justified',
      'INC-9 on record',
    );
    expect(reviewed.change).toBe('reviewed');
    expect(reviewed.request.review).toMatchObject({
      by: 'U0ALICE',
      verdict: 'justified',
      note: 'INC-9 on record',
    });
    expect(await deps.store.queries.unreviewedBreakGlass()).toEqual([]);
    const after = notifier.of('reviewReminder').length;
    await sleep(2_200);
    expect(notifier.of('reviewReminder').length).toBe(after);
  });

  it('when the holder, a stranger or nobody in particular reviews, then it is refused; an admin may', async () => {
    const granted = await breakGlass();
    const grantId = granted.request.grantId!;
    expect(await codeOf(access.review(grantId, GINA, 'justified'))).toBe('not_allowed_to_review');
    expect(await codeOf(access.review(grantId, u('U0MALLORY'), 'flagged'))).toBe('not_allowed_to_review');
    expect(await codeOf(access.review('g_doesnotexist0000000000' as never, u('U0ALICE'), 'flagged'))).toBe(
      'no_such_grant',
    );
    expect((await access.review(grantId, u('U0ADMIN'), 'flagged')).change).toBe('reviewed');
    expect((await access.review(grantId, u('U0ALICE'), 'justified')).change).toBe('already-reviewed');
  });
});
