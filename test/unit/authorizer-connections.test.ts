import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../authorizer/metrics.js';
import {
  createConnectionRegistry,
  type EndReason,
  type OpenConnection,
} from '../../authorizer/proxy/connections.js';
import { systemClock } from '../../shared/clock.js';
import { createLogger } from '../../shared/log.js';

const log = createLogger('connections-test', 'silent');
const metrics = () => createMetrics({ countActiveGrants: async () => 0, log });

/** A connection that records how it ended; `ended` resolves then. */
function connection(fields: Partial<OpenConnection> & { grantId: string; expiresAt: number }) {
  let resolve!: (why: EndReason) => void;
  const ended = new Promise<EndReason>((r) => {
    resolve = r;
  });
  const c: OpenConnection = { kind: 'http', end: (why) => resolve(why), ...fields };
  return { c, ended };
}

const soon = (ms: number) => Date.now() + ms;

describe('authorizer: open connections by grant', () => {
  it('when connections of one grant reach their ends, then each ends at its own (a session end first), with its reason', async () => {
    const registry = createConnectionRegistry({ clock: systemClock, metrics: metrics(), log });
    const grantEnd = soon(300);
    const plain = connection({ grantId: 'g1', expiresAt: grantEnd });
    const withSession = connection({
      grantId: 'g1',
      expiresAt: grantEnd,
      sid: 's1',
      sessionEndsAt: soon(100),
    });
    expect(registry.track(plain.c)).toBeUndefined();
    expect(registry.track(withSession.c)).toBeUndefined();
    expect(await withSession.ended).toBe('session ended');
    expect(Date.now()).toBeLessThan(grantEnd);
    expect(await plain.ended).toBe('expired');
    expect(Date.now()).toBeGreaterThanOrEqual(grantEnd - 5);
    expect(registry.size).toBe(0);
  });

  it('when the grant was extended, then its connections go on to the new expiry; when it cannot be read, they end', async () => {
    const newEnd = soon(400);
    const registry = createConnectionRegistry({
      clock: systemClock,
      metrics: metrics(),
      log,
      expiryOf: async (grantId) => {
        if (grantId === 'extended') return newEnd;
        throw new Error('Redis away');
      },
    });
    const extended = connection({ grantId: 'extended', expiresAt: soon(100) });
    const unreadable = connection({ grantId: 'unreadable', expiresAt: soon(100) });
    registry.track(extended.c);
    registry.track(unreadable.c);
    expect(await unreadable.ended).toBe('expired');
    expect(await extended.ended).toBe('expired');
    expect(Date.now()).toBeGreaterThanOrEqual(newEnd - 5);
  });

  it('when a grant is revoked, then its connections end, the next one is refused, and other grants are untouched', async () => {
    const registry = createConnectionRegistry({ clock: systemClock, metrics: metrics(), log });
    const a = connection({ grantId: 'ga', expiresAt: soon(60_000) });
    const b = connection({ grantId: 'gb', expiresAt: soon(60_000) });
    registry.track(a.c);
    registry.track(b.c);
    expect(registry.closeGrant('ga')).toBe(1);
    expect(await a.ended).toBe('revoked');
    // A request of the revoked grant that starts after the message: refused, not left open.
    expect(registry.track(connection({ grantId: 'ga', expiresAt: soon(60_000) }).c)).toBe('revoked');
    expect(registry.grants()).toEqual(['gb']);
    registry.release(b.c);
    expect(registry.closeGrant('gb')).toBe(0);
    registry.stop();
  });

  it('when a session is signed out, then only its connections end, and a later one of it is refused', async () => {
    const registry = createConnectionRegistry({ clock: systemClock, metrics: metrics(), log });
    const mine = connection({
      grantId: 'g',
      expiresAt: soon(60_000),
      sid: 'mine',
      sessionEndsAt: soon(60_000),
    });
    const other = connection({
      grantId: 'g',
      expiresAt: soon(60_000),
      sid: 'other',
      sessionEndsAt: soon(60_000),
    });
    registry.track(mine.c);
    registry.track(other.c);
    expect(registry.closeSession('mine')).toBe(1);
    expect(await mine.ended).toBe('signed out');
    expect(registry.track(connection({ grantId: 'g', expiresAt: soon(60_000), sid: 'mine' }).c)).toBe(
      'signed out',
    );
    expect(registry.sessions()).toEqual(['other']);
    expect(registry.size).toBe(1);
    registry.stop();
  });

  it('when the WebSockets are closed at shutdown, then HTTP responses are left to the server grace period', async () => {
    const registry = createConnectionRegistry({ clock: systemClock, metrics: metrics(), log });
    const ws = connection({ grantId: 'g', expiresAt: soon(60_000), kind: 'websocket' });
    const http = connection({ grantId: 'g', expiresAt: soon(60_000) });
    registry.track(ws.c);
    registry.track(http.c);
    registry.closeWebSockets();
    expect(await ws.ended).toBe('shutdown');
    expect(registry.size).toBe(1);
    registry.stop();
  });
});
