import { describe, expect, it } from 'vitest';
import { type CutReason, createSessionRegistry } from '../../authorizer/postgres/sessions.js';

function session(grantId: string) {
  const cuts: CutReason[] = [];
  let resolveCut: (r: CutReason) => void = () => {};
  const wasCut = new Promise<CutReason>((r) => {
    resolveCut = r;
  });
  return {
    grantId,
    cuts,
    wasCut,
    cut(reason: CutReason) {
      cuts.push(reason);
      resolveCut(reason);
    },
  };
}

describe('PostgreSQL sessions by grant', () => {
  it('when a grant reaches its expiry and it was extended, then its session lives on until the new end', async () => {
    const end = Date.now() + 50;
    const extendedTo = end + 100;
    const registry = createSessionRegistry({
      now: () => Date.now(),
      stillLive: async () => (Date.now() < extendedTo ? extendedTo : undefined),
    });
    const s = session('g_1');
    registry.track(s, end);
    expect(await s.wasCut).toEqual({ why: 'expired' });
    expect(Date.now()).toBeGreaterThanOrEqual(extendedTo);
  });

  it('when the grant cannot be read at its expiry, then the session is ended (fail closed)', async () => {
    const registry = createSessionRegistry({
      now: () => Date.now(),
      stillLive: async () => {
        throw new Error('Redis away');
      },
    });
    const s = session('g_2');
    registry.track(s, Date.now() + 20);
    expect(await s.wasCut).toEqual({ why: 'expired' });
  });

  it('when a grant is revoked, then all its sessions are ended and no other', () => {
    const registry = createSessionRegistry({
      now: () => Date.now(),
      stillLive: async () => Date.now() + 60_000,
    });
    const [a, b, other] = [session('g_3'), session('g_3'), session('g_4')];
    for (const s of [a, b, other]) registry.track(s, Date.now() + 60_000);
    expect(registry.cutGrant('g_3', { why: 'revoked', by: 'U0BOSS' })).toBe(2);
    expect(a.cuts).toEqual([{ why: 'revoked', by: 'U0BOSS' }]);
    expect(b.cuts).toHaveLength(1);
    expect(other.cuts).toHaveLength(0);
    for (const s of [a, b, other]) registry.untrack(s);
    expect(registry.size).toBe(0);
  });

  it('when a cancel key is presented, then only the exact pid and secret it was issued with are accepted', () => {
    const registry = createSessionRegistry({ now: () => Date.now(), stillLive: async () => undefined });
    // A closed port: the cancel is sent and fails quietly.
    const key = registry.issueCancelKey({ host: '127.0.0.1', port: 9, database: 'x' }, 1234, 5678);
    expect(registry.cancel(key.pid, key.secret + 1)).toBe(false);
    expect(registry.cancel(key.pid + 1, key.secret)).toBe(false);
    expect(registry.cancel(key.pid, key.secret)).toBe(true);
    registry.forgetCancelKey(key.pid);
    expect(registry.cancel(key.pid, key.secret)).toBe(false);
  });
});
