import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportAudit, verifyAudit } from '../../shared/audit/chain.js';
import { systemClock } from '../../shared/clock.js';
import { AccessStore, grantIdOf } from '../../shared/grants/store.js';
import { newRequestId, type SlackUserId } from '../../shared/ids.js';
import { type TestRedis, testRedis } from '../support/redis.js';

const ALICE = 'U0ALICE' as SlackUserId;
const BOB = 'U0BOB' as SlackUserId;

describe('the hash-chained audit log', () => {
  let t: TestRedis;
  let store: AccessStore;
  let ids: string[];

  beforeEach(async () => {
    t = await testRedis();
    store = new AccessStore(t.redis, { prefix: t.prefix, clock: systemClock });
    const id = newRequestId();
    await store.transitions.createRequest({
      id,
      kind: 'access',
      requester: ALICE,
      email: 'alice@example.com',
      resource: 'grafana',
      role: 'viewer',
      durationMs: 60_000,
      reason: 'INC-7',
      breakGlass: false,
      approvalsRequired: 1,
      selfApproval: false,
      pendingTimeoutMs: 60_000,
    });
    await store.transitions.approve(id, BOB);
    await store.transitions.revoke(grantIdOf(id), BOB, 'done');
    await store.transitions.appendAudit({
      type: 'access.denied',
      actor: ALICE,
      resource: 'grafana',
      reason: 'token_missing',
    });
    ids = (await t.redis.xrange(t.keys.auditStream, '-', '+')).map(([id]) => id);
  });
  afterEach(async () => t.cleanup());

  it('when nothing was touched, then the chain verifies and lists every transition in order', async () => {
    const result = await verifyAudit(t.redis, t.keys);
    expect(result).toEqual({ ok: true, entries: 5, head: expect.any(String) });
    const types: string[] = [];
    for await (const entry of exportAudit(t.redis, t.keys)) types.push(entry.event.type);
    expect(types).toEqual([
      'request.created',
      'request.approved',
      'grant.issued',
      'grant.revoked',
      'access.denied',
    ]);
  });

  it('when an event in the middle is deleted, then verify reports the entry after it', async () => {
    await t.redis.xdel(t.keys.auditStream, ids[2]!);
    const result = await verifyAudit(t.redis, t.keys);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.brokenAt).toBe(ids[3]);
      expect(result.entries).toBe(2);
    }
  });

  it('when an event is altered in place, then verify reports that very entry', async () => {
    const entries = await t.redis.xrange(t.keys.auditStream, '-', '+');
    await t.redis.del(t.keys.auditStream);
    for (const [id, flat] of entries) {
      const fields = [...flat];
      if (id === ids[1]) fields[1] = fields[1]!.replace('U0BOB', 'U0MALLORY');
      await t.redis.xadd(t.keys.auditStream, id, ...fields);
    }
    const result = await verifyAudit(t.redis, t.keys);
    expect(result).toMatchObject({ ok: false, brokenAt: ids[1], entries: 1 });
    if (!result.ok) expect(result.problem).toContain('altered');
  });

  it('when the last event is removed, then verify reports the missing tail', async () => {
    await t.redis.xdel(t.keys.auditStream, ids.at(-1)!);
    const result = await verifyAudit(t.redis, t.keys);
    expect(result).toMatchObject({ ok: false, brokenAt: 'end' });
  });

  it('when exporting since a time, then only later events come out', async () => {
    const since = Number(ids[3]!.split('-')[0]);
    const out: string[] = [];
    for await (const entry of exportAudit(t.redis, t.keys, since)) out.push(entry.id);
    expect(out).toContain(ids[3]);
    expect(out).toContain(ids[4]);
    expect(out).not.toContain(ids[0]);
  });
});
