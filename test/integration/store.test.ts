import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyAudit } from '../../shared/audit/chain.js';
import { systemClock } from '../../shared/clock.js';
import { AccessStore, grantIdOf, type NewRequest } from '../../shared/grants/store.js';
import type { SlackUserId } from '../../shared/ids.js';
import { codeOf as codeOrOk } from '../support/outcomes.js';
import { type TestRedis, testRedis } from '../support/redis.js';
import { newRequestInput } from '../support/requests.js';

const ALICE = 'U0ALICE' as SlackUserId;
const BOB = 'U0BOB' as SlackUserId;
const CAROL = 'U0CAROL' as SlackUserId;

const newRequest = (overrides: Partial<NewRequest> = {}) => newRequestInput({ ...overrides });

/** The refusal's code, or 'none' when it went through. */
const codeOf = (p: Promise<unknown>) => codeOrOk(p, 'none');

describe('AccessStore against real Redis', () => {
  let t: TestRedis;
  let store: AccessStore;
  const events: Record<string, unknown>[] = [];
  beforeEach(async () => {
    t = await testRedis();
    events.length = 0;
    store = new AccessStore(t.redis, {
      prefix: t.prefix,
      clock: systemClock,
      auditSink: (e) => events.push(e),
    });
  });
  afterEach(async () => t.cleanup());

  it('when 50 approvals race on one request with threshold 1, then exactly one grant is minted', async () => {
    const req = newRequest();
    await store.transitions.createRequest(req);
    const approvers = Array.from({ length: 50 }, (_, i) => `U0APP${i}` as SlackUserId);
    const results = await Promise.allSettled(approvers.map((a) => store.transitions.approve(req.id, a)));
    const granted = results.filter((r) => r.status === 'fulfilled' && r.value.decision.outcome === 'granted');
    expect(granted).toHaveLength(1);
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused).toHaveLength(49);
    expect(events.filter((e) => e.type === 'grant.issued')).toHaveLength(1);
    expect(await t.redis.zcard(t.keys.activeGrants)).toBe(1);
  });

  it('when threshold is 2, then one approver twice stays pending and a second distinct approver grants', async () => {
    const req = newRequest({ approvalsRequired: 2 });
    await store.transitions.createRequest(req);
    expect((await store.transitions.approve(req.id, BOB)).decision).toEqual({
      outcome: 'pending',
      approvals: 1,
    });
    expect((await store.transitions.approve(req.id, BOB)).decision).toEqual({
      outcome: 'already_approved',
      approvals: 1,
    });
    const { decision } = await store.transitions.approve(req.id, CAROL);
    expect(decision.outcome).toBe('granted');
    const loaded = await store.queries.getRequest(req.id);
    expect(loaded?.approvals).toEqual([BOB, CAROL]);
    expect(loaded?.status).toBe('approved');
  });

  it('when the requester approves their own request, then it is refused unless self-approval is on', async () => {
    const req = newRequest();
    await store.transitions.createRequest(req);
    expect(await codeOf(store.transitions.approve(req.id, ALICE))).toBe('self_approval');
    expect((await store.queries.getRequest(req.id))?.status).toBe('pending');
    const own = newRequest({ selfApproval: true });
    await store.transitions.createRequest(own);
    expect((await store.transitions.approve(own.id, ALICE)).decision.outcome).toBe('granted');
  });

  it('when a grant is revoked, then the live check says revoked at once, and a second revoke audits nothing', async () => {
    const req = newRequest();
    await store.transitions.createRequest(req);
    await store.transitions.approve(req.id, BOB);
    const gid = grantIdOf(req.id);
    expect((await store.queries.liveGrant(gid))?.status).toBe('active');
    const revoked = await store.transitions.revoke(gid, BOB, 'done');
    expect(revoked.outcome).toBe('revoked');
    expect(revoked.request.id).toBe(req.id);
    expect((await store.queries.liveGrant(gid))?.status).toBe('revoked');
    const again = await store.transitions.revoke(gid, BOB);
    expect(again.outcome).toBe('already_revoked');
    expect(again.request.id).toBe(req.id);
    expect(events.filter((e) => e.type === 'grant.revoked')).toHaveLength(1);
    expect((await verifyAudit(t.redis, t.keys)).ok).toBe(true);
  });

  it('when a redeem code is used twice, then the second use is refused as used', async () => {
    const req = newRequest();
    await store.transitions.createRequest(req);
    await store.transitions.approve(req.id, BOB);
    const code = await store.codes.createRedeemCode(grantIdOf(req.id));
    expect(await store.codes.redeem(code)).toBe(grantIdOf(req.id));
    expect(await codeOf(store.codes.redeem(code))).toBe('code_used');
    expect(await codeOf(store.codes.redeem('x'.repeat(32)))).toBe('code_unknown');
    const ttl = await t.redis.pttl(t.keys.redeemCode('anything'));
    expect(ttl).toBe(-2);
  });

  it('when deny follows approve, or approve follows deny, then the first decision stands', async () => {
    const a = newRequest();
    await store.transitions.createRequest(a);
    await store.transitions.approve(a.id, BOB);
    expect(await codeOf(store.transitions.deny(a.id, CAROL))).toBe('request_not_pending');
    const b = newRequest();
    await store.transitions.createRequest(b);
    await store.transitions.deny(b.id, CAROL, 'not now');
    expect(await codeOf(store.transitions.approve(b.id, BOB))).toBe('request_not_pending');
    expect((await store.queries.getRequest(b.id))?.denyReason).toBe('not now');
  });

  it('when someone other than the requester cancels, then it is refused; the requester can', async () => {
    const req = newRequest();
    await store.transitions.createRequest(req);
    expect(await codeOf(store.transitions.cancel(req.id, BOB))).toBe('not_allowed_to_cancel');
    await store.transitions.cancel(req.id, ALICE);
    expect((await store.queries.getRequest(req.id))?.status).toBe('cancelled');
    expect(await store.queries.pendingRequestsOf(ALICE)).toEqual([]);
  });
});
