import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AccessDeps, AccessService } from '../../shared/access/service.js';
import { exportAudit } from '../../shared/audit/chain.js';
import type { SlackUserId } from '../../shared/ids.js';
import { loadPolicy } from '../../shared/policy/index.js';
import { connectRedisForQueue } from '../../shared/redis/connect.js';
import { REDIS_TARGET, type TestRedis, testRedis } from '../support/redis.js';
import { closeUseCaseDeps, useCaseDeps } from '../support/use-cases.js';

/** A window that holds now, and one that does not: working hours against the real clock. */
function windowAround(now: number, inside: boolean) {
  const hour = new Date(now).getUTCHours();
  const from = inside ? hour : (hour + 2) % 24;
  const to = inside ? (hour + 1) % 24 : (hour + 3) % 24;
  const hh = (h: number) => `${String(h).padStart(2, '0')}:00`;
  return `{ days: [mon, tue, wed, thu, fri, sat, sun], from: "${hh(from)}", to: "${hh(to)}", timezone: UTC }`;
}

function policyText(hours: string) {
  return `
defaults: { approvalChannel: C0APPROVALS, maxDuration: 8h }
resources:
  grafana:
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /grafana }
    approvers: { users: [U0ALICE] }
    roles: { viewer: { methods: [GET] }, editor: { methods: ["*"] } }
    autoApprove: { usergroups: [S0ONCALL], roles: [viewer], maxDuration: 2h }
  off-hours:
    upstream: http://127.0.0.1:3002
    match: { pathPrefix: /off }
    approvers: { users: [U0ALICE] }
    autoApprove: { roles: [access], hours: ${hours} }
`;
}

const DEV = 'U0DEV' as SlackUserId;
const PAGED = 'U0PAGED' as SlackUserId;
const MIN = 60_000;

describe('auto-approve rules in the request flow', () => {
  let t: TestRedis;
  let deps: AccessDeps;
  let access: AccessService;
  const queue = connectRedisForQueue(REDIS_TARGET);
  afterAll(() => queue.disconnect());

  async function start(hoursInside: boolean) {
    t = await testRedis();
    const policy = loadPolicy(policyText(windowAround(Date.now(), hoursInside)));
    deps = useCaseDeps(t, queue, {
      policy: () => policy,
      publicUrl: 'https://access.example.com',
      usergroups: async (g) => (g === 'S0ONCALL' ? [PAGED] : []),
    });
    access = new AccessService(deps);
  }
  beforeEach(() => start(true));
  afterEach(() => closeUseCaseDeps(deps, t));

  const ask = (user: SlackUserId, resource: string, role: string, durationMs: number) =>
    access.request({ user, email: `${user}@example.com`, resource, role, durationMs, reason: 'INC-1' });

  it('when anyone asks for an auto-approved role within its maxDuration, then it is granted at once by jitgate', async () => {
    const viewer = await ask(DEV, 'grafana', 'viewer', 30 * MIN);
    expect(viewer.change).toBe('granted');
    expect(viewer.request).toMatchObject({ status: 'approved', decidedBy: 'jitgate', grantStatus: 'active' });
    const approved: Record<string, unknown>[] = [];
    for await (const e of exportAudit(t.redis, t.keys))
      if (e.event.type === 'request.approved') approved.push(e.event);
    expect(approved).toEqual([expect.objectContaining({ actor: 'jitgate', reason: 'auto-approve' })]);
  });

  it('when the role is not auto-approved, or the grant would be longer than the rule allows, then approvers decide', async () => {
    const editor = await ask(DEV, 'grafana', 'editor', 30 * MIN);
    expect(editor.change).toBe('filed');
    // One undecided request per person and resource (maxPendingPerResource): withdraw it first.
    await access.cancel(editor.request.id, DEV);
    expect((await ask(DEV, 'grafana', 'viewer', 3 * 60 * MIN)).change).toBe('filed');
    // A user-group member gets any role, within the same maxDuration.
    expect((await ask(PAGED, 'grafana', 'editor', 2 * 60 * MIN)).change).toBe('granted');
    expect((await ask(PAGED, 'grafana', 'editor', 2 * 60 * MIN + MIN)).change).toBe('filed');
  });

  it("when an auto-approved grant is extended past the rule's maxDuration, then the extension goes to the approvers", async () => {
    const granted = await ask(DEV, 'grafana', 'viewer', 90 * MIN);
    const grantId = granted.request.grantId!;
    const within = await access.extend(grantId, DEV, 20 * MIN, '');
    expect(within.change).toBe('granted');
    const beyond = await access.extend(grantId, DEV, 20 * MIN, '');
    expect(beyond.change).toBe('filed');
  });

  it('when working hours hold now, then the rule applies; outside them, approvers decide', async () => {
    expect((await ask(DEV, 'off-hours', 'access', 30 * MIN)).change).toBe('granted');
    await closeUseCaseDeps(deps, t);
    await start(false);
    expect((await ask(DEV, 'off-hours', 'access', 30 * MIN)).change).toBe('filed');
  });
});
