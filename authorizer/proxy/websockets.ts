import type { Duplex } from 'node:stream';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import type { Metrics } from '../metrics.js';

interface Tracked {
  grantId: string;
  /** The session it was opened with (sign-in on): a logout closes it too. */
  sid?: string | undefined;
  client: Duplex;
  upstream?: Duplex | undefined;
  timer: NodeJS.Timeout;
}

/** setTimeout's limit (about 24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The open WebSockets, by grant. A socket is closed when its grant is revoked (`closeGrant`, from
 * the revocations channel) and, by its own timer, at the grant's expiry: that covers expiry even
 * with no worker running and no message published. Closing destroys both ends: the tunnel carries
 * raw frames, and a close frame written into it could land in the middle of one.
 */
export function createSocketRegistry(options: { clock: Clock; metrics: Metrics; log: Logger }) {
  const byGrant = new Map<string, Set<Tracked>>();
  const bySession = new Map<string, Set<Tracked>>();
  const byClient = new WeakMap<Duplex, Tracked>();
  let open = 0;

  function close(t: Tracked, why: 'revoked' | 'expired' | 'shutdown' | 'signed out'): void {
    options.log.info({ grantId: t.grantId, why }, 'closing WebSocket');
    t.client.destroy();
    t.upstream?.destroy();
  }

  function untrack(t: Tracked): void {
    clearTimeout(t.timer);
    const set = byGrant.get(t.grantId);
    if (set?.delete(t)) {
      open -= 1;
      options.metrics.openWebSockets.set(open);
    }
    if (set?.size === 0) byGrant.delete(t.grantId);
    if (t.sid !== undefined) {
      const own = bySession.get(t.sid);
      own?.delete(t);
      if (own?.size === 0) bySession.delete(t.sid);
    }
    t.upstream?.destroy();
  }

  function armExpiry(t: Tracked, expiresAt: number): NodeJS.Timeout {
    const wait = Math.max(0, expiresAt - options.clock.now());
    const timer = setTimeout(
      () => {
        if (wait > MAX_TIMER_MS) t.timer = armExpiry(t, expiresAt);
        else close(t, 'expired');
      },
      Math.min(wait, MAX_TIMER_MS),
    );
    timer.unref();
    return timer;
  }

  return {
    /**
     * Tracks an authorized upgrade's client socket until it closes; one opened with a session ends
     * at the grant's expiry or the session's end, whichever comes first, or at its logout.
     */
    track(
      grantId: string,
      expiresAt: number,
      client: Duplex,
      session?: { sid: string; endsAt: number } | undefined,
    ): void {
      const t: Tracked = {
        grantId,
        sid: session?.sid,
        client,
        timer: undefined as unknown as NodeJS.Timeout,
      };
      t.timer = armExpiry(t, session ? Math.min(expiresAt, session.endsAt) : expiresAt);
      if (session) {
        let own = bySession.get(session.sid);
        if (!own) {
          own = new Set();
          bySession.set(session.sid, own);
        }
        own.add(t);
      }
      let set = byGrant.get(grantId);
      if (!set) {
        set = new Set();
        byGrant.set(grantId, set);
      }
      set.add(t);
      byClient.set(client, t);
      open += 1;
      options.metrics.openWebSockets.set(open);
      client.once('close', () => untrack(t));
    },
    /** Links the upstream end, so that closing one closes the other. */
    attachUpstream(client: Duplex, upstream: Duplex): void {
      const t = byClient.get(client);
      if (!t) {
        upstream.destroy();
        return;
      }
      t.upstream = upstream;
      upstream.once('close', () => client.destroy());
    },
    closeGrant(grantId: string, why: 'revoked' | 'expired' = 'revoked'): number {
      const set = byGrant.get(grantId);
      if (!set) return 0;
      const n = set.size;
      for (const t of [...set]) close(t, why);
      return n;
    },
    /** Closes the sockets opened with a session that was signed out. */
    closeSession(sid: string): number {
      const set = bySession.get(sid);
      if (!set) return 0;
      const n = set.size;
      for (const t of [...set]) close(t, 'signed out');
      return n;
    },
    /** The sessions with open sockets (to re-check after a missed logout). */
    sessions(): string[] {
      return [...bySession.keys()];
    },
    closeAll(): void {
      for (const set of byGrant.values()) for (const t of [...set]) close(t, 'shutdown');
    },
    /** The grants with open sockets (to re-check after a missed revocation). */
    grants(): string[] {
      return [...byGrant.keys()];
    },
    get size(): number {
      return open;
    },
  };
}

export type SocketRegistry = ReturnType<typeof createSocketRegistry>;
