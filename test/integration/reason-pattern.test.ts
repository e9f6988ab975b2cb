import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AccessDeps, AccessService } from '../../shared/access/service.js';
import { exportAudit } from '../../shared/audit/chain.js';
import type { GrantId, SlackUserId } from '../../shared/ids.js';
import { loadPolicy } from '../../shared/policy/index.js';
import { connectRedisForQueue } from '../../shared/redis/connect.js';
import { refusalOf } from '../support/outcomes.js';
import { REDIS_TARGET, type TestRedis, testRedis } from '../support/redis.js';
import { closeUseCaseDeps, useCaseDeps } from '../support/use-cases.js';

const policy = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS, reasonPattern: "^(INC|CHG)-[0-9]+" }
resources:
  prod-db:
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /prod-db }
    approvers: { users: [U0ALICE] }
    roles: { readonly: { methods: [GET] } }
  wiki:
    upstream: http://127.0.0.1:3002
    match: { pathPrefix: /wiki }
    approvers: { users: [U0ALICE] }
    breakGlass: true
    reasonPattern: "ticket (?<ticket>[A-Z]+-[0-9]+)"
`);
const DEV = 'U0DEV' as SlackUserId;
const ALICE = 'U0ALICE' as SlackUserId;

describe('a resource whose reasons must name a ticket', () => {
  let t: TestRedis;
  let deps: AccessDeps;
  let access: AccessService;
  const queue = connectRedisForQueue(REDIS_TARGET);
  afterAll(() => queue.disconnect());
  beforeEach(async () => {
    t = await testRedis();
    deps = useCaseDeps(t, queue, { policy: () => policy, publicUrl: 'https://access.example.com' });
    access = new AccessService(deps);
  });
  afterEach(() => closeUseCaseDeps(deps, t));

  const ask = (reason: string, more: { resource?: string; breakGlass?: boolean } = {}) =>
    access.request({ user: DEV, email: 'dev@example.com', resource: 'prod-db', reason, ...more });

  it('when the reason does not match, then nothing is filed and the message shows the form and the command', async () => {
    for (const reason of ['checking slow queries', 'see INC-42', 'inc-42 lower case']) {
      const said = await refusalOf(ask(reason));
      expect(said).toContain('input_invalid: The reason for prod-db must match ^(INC|CHG)-[0-9]+');
      expect(said).toContain('try again: /access prod-db/readonly 1h <ticket>');
    }
    // Break-glass is no way around it.
    const glass = await refusalOf(ask('on fire', { resource: 'wiki', breakGlass: true }));
    expect(glass).toContain('try again: /access wiki/access 1h --break-glass <ticket>');
    expect(await t.redis.xlen(t.keys.auditStream)).toBe(0);
  });

  it('when it matches, then the ticket id is a field of every audit event of the request and its grant', async () => {
    const filed = await ask('CHG-7 migrate the index');
    await access.approve(filed.request.id, ALICE);
    const grantId = `g_${filed.request.id.slice(2)}` as GrantId;
    await access.revoke(grantId, ALICE, 'done');
    const events: Record<string, unknown>[] = [];
    for await (const e of exportAudit(t.redis, t.keys)) events.push(e.event);
    expect(events.map((e) => e.type)).toEqual([
      'request.created',
      'request.approved',
      'grant.issued',
      'grant.revoked',
    ]);
    for (const e of events) expect(e.ticket, String(e.type)).toBe('CHG-7');
    expect(events[0]!.reason).toBe('CHG-7 migrate the index');
  });

  it('when the pattern names a ticket group, then that group is the ticket, also when granted at once', async () => {
    await ask('re ticket OPS-12: wiki is down', { resource: 'wiki', breakGlass: true });
    const events: Record<string, unknown>[] = [];
    for await (const e of exportAudit(t.redis, t.keys)) events.push(e.event);
    expect(events.map((e) => [e.type, e.ticket])).toEqual([
      ['request.created', 'OPS-12'],
      ['request.approved', 'OPS-12'],
      ['grant.issued', 'OPS-12'],
    ]);
  });

  it('when an extension gives a new reason, then it must match too; without one, the grant keeps its reason', async () => {
    const filed = await ask('INC-9 dashboards');
    const granted = await access.approve(filed.request.id, ALICE);
    const grantId = granted.request.grantId!;
    expect(await refusalOf(access.extend(grantId, DEV, 30 * 60_000, 'still at it'))).toContain(
      `try again: /access extend ${grantId} 30m <ticket>`,
    );
    const kept = await access.extend(grantId, DEV, 30 * 60_000, '');
    expect(kept.request).toMatchObject({ kind: 'extension', reason: 'INC-9 dashboards', ticket: 'INC-9' });
  });
});
