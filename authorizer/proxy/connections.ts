import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import type { Metrics } from '../metrics.js';

export type EndReason = 'revoked' | 'expired' | 'signed out' | 'session ended' | 'shutdown';

/** One open connection of a grant: a WebSocket, or an HTTP response still under way. */
export interface OpenConnection {
  kind: 'websocket' | 'http';
  grantId: string;
  /** The session it was opened with (sign-in on): a logout ends it too. */
  sid?: string | undefined;
  /** The grant's expiry (moved on by the registry when the grant was extended). */
  expiresAt: number;
  /** Its session's end, when it has one: it ends then even if the grant lasts longer. */
  sessionEndsAt?: number | undefined;
  /** Ends it now, both ends. Called at most once. */
  end(why: EndReason): void;
}

/** What a grant's connections share: one timer, due at the earliest end among them. */
interface Bucket {
  members: Set<OpenConnection>;
  timer?: NodeJS.Timeout | undefined;
  dueAt: number;
}

const endsAt = (c: OpenConnection) => Math.min(c.expiresAt, c.sessionEndsAt ?? Number.POSITIVE_INFINITY);

/** setTimeout's limit (about 24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2_147_483_647;
/**
 * How long a revocation (or a logout) is remembered after its message: a request whose grant was
 * read just before the revocation, and that starts after the message was handled, is ended when it
 * starts. (The read and the start are a few milliseconds apart; this is a wide margin.)
 */
const REMEMBER_ENDED_MS = 60_000;

/**
 * Every open connection, by grant and by session. Each ends when its grant is revoked (`closeGrant`,
 * from the revocations channel), at its session's logout (`closeSession`), and, by its grant's
 * timer, at its grant's expiry or its session's end: expiry is enforced here with no worker and no
 * message. At the expiry it knew, the registry reads the grant's expiry again (`expiryOf`): an
 * extended grant keeps its connections; one that is gone, or cannot be read, ends them (fail
 * closed). This is the hot path: a request costs a Map lookup and a Set insertion; a grant's timer
 * is set when it first opens a connection and stays until its earliest end (a grant's steady
 * traffic arms no new timer).
 */
export function createConnectionRegistry(options: {
  clock: Clock;
  metrics: Metrics;
  log: Logger;
  /** The grant's expiry as Redis has it now; undefined when it is no longer live. */
  expiryOf?: ((grantId: string) => Promise<number | undefined>) | undefined;
}) {
  const byGrant = new Map<string, Bucket>();
  const bySession = new Map<string, Set<OpenConnection>>();
  /** Grants (`g:` id) and sessions (`s:` id) ended recently, oldest first, with when. */
  const ended = new Map<string, number>();
  let openWebSockets = 0;

  function setTimer(grantId: string, b: Bucket, dueAt: number): void {
    clearTimeout(b.timer);
    b.dueAt = dueAt;
    const wait = Math.max(0, dueAt - options.clock.now());
    b.timer = setTimeout(() => onDue(grantId, b), Math.min(wait, MAX_TIMER_MS));
    b.timer.unref();
  }

  function onDue(grantId: string, b: Bucket): void {
    b.timer = undefined;
    if (b.dueAt > options.clock.now()) {
      setTimer(grantId, b, b.dueAt);
      return;
    }
    const now = options.clock.now();
    const grantEnded = [...b.members].some((c) => c.expiresAt <= now);
    if (!grantEnded || options.expiryOf === undefined) {
      sweep(grantId, b);
      return;
    }
    // Keep the bucket armed while we ask, so that new connections do not arm a timer of their own.
    b.dueAt = Number.NEGATIVE_INFINITY;
    options.expiryOf(grantId).then(
      (expiry) => extendThenSweep(grantId, b, expiry),
      (err) => {
        options.log.warn({ err, grantId }, 'could not re-read an expiring grant: ending its connections');
        extendThenSweep(grantId, b, undefined);
      },
    );
  }

  function extendThenSweep(grantId: string, b: Bucket, expiry: number | undefined): void {
    // Revoked meanwhile: closeGrant took the bucket and ended its connections.
    if (byGrant.get(grantId) !== b) return;
    if (expiry !== undefined) for (const c of b.members) c.expiresAt = Math.max(c.expiresAt, expiry);
    sweep(grantId, b);
  }

  /** Ends the connections that are due, and re-arms for the next one (or drops the bucket). */
  function sweep(grantId: string, b: Bucket): void {
    const now = options.clock.now();
    let next = Number.POSITIVE_INFINITY;
    for (const c of [...b.members]) {
      if (endsAt(c) <= now) end(c, c.expiresAt <= now ? 'expired' : 'session ended');
      else next = Math.min(next, endsAt(c));
    }
    b.dueAt = Number.POSITIVE_INFINITY;
    if (b.members.size === 0) {
      if (byGrant.get(grantId) === b) byGrant.delete(grantId);
    } else setTimer(grantId, b, next);
  }

  function end(c: OpenConnection, why: EndReason): void {
    release(c);
    options.log.info({ grantId: c.grantId, kind: c.kind, why }, 'ending an open connection');
    try {
      c.end(why);
    } catch (err) {
      options.log.warn({ err }, 'could not end a connection');
    }
  }

  /** Forgets a connection (it closed, or it is being ended). Safe to call more than once. */
  function release(c: OpenConnection): void {
    const b = byGrant.get(c.grantId);
    if (!b?.members.delete(c)) return;
    if (c.kind === 'websocket') {
      openWebSockets -= 1;
      options.metrics.openWebSockets.set(openWebSockets);
    }
    if (c.sid !== undefined) {
      const own = bySession.get(c.sid);
      own?.delete(c);
      if (own?.size === 0) bySession.delete(c.sid);
    }
    // An empty bucket keeps its timer until it is due, so that the grant's next request arms none.
  }

  function remember(key: string): void {
    const now = options.clock.now();
    ended.delete(key);
    ended.set(key, now);
    for (const [k, at] of ended) {
      if (at > now - REMEMBER_ENDED_MS) break;
      ended.delete(k);
    }
  }

  return {
    /**
     * Tracks a connection until `release`; answers undefined. When its grant was revoked, or its
     * session signed out, a moment ago (the message came between the grant read and now), it is not
     * tracked and the answer says why: the caller refuses it.
     */
    track(c: OpenConnection): 'revoked' | 'signed out' | undefined {
      if (ended.has(`g:${c.grantId}`)) return 'revoked';
      if (c.sid !== undefined && ended.has(`s:${c.sid}`)) return 'signed out';
      let b = byGrant.get(c.grantId);
      if (!b) {
        b = { members: new Set(), dueAt: Number.POSITIVE_INFINITY };
        byGrant.set(c.grantId, b);
      }
      b.members.add(c);
      // (A bucket whose grant is being re-read has dueAt -Infinity and no timer: the sweep covers c.)
      if (endsAt(c) < b.dueAt) setTimer(c.grantId, b, endsAt(c));
      if (c.sid !== undefined) {
        let own = bySession.get(c.sid);
        if (!own) {
          own = new Set();
          bySession.set(c.sid, own);
        }
        own.add(c);
      }
      if (c.kind === 'websocket') {
        openWebSockets += 1;
        options.metrics.openWebSockets.set(openWebSockets);
      }
      return undefined;
    },
    release,
    /** Ends every open connection of a grant (revoked, or found ended on a re-check). */
    closeGrant(grantId: string, why: 'revoked' | 'expired' = 'revoked'): number {
      remember(`g:${grantId}`);
      const b = byGrant.get(grantId);
      if (!b) return 0;
      byGrant.delete(grantId);
      clearTimeout(b.timer);
      const n = b.members.size;
      for (const c of [...b.members]) end(c, why);
      return n;
    },
    /** Ends the connections opened with a session that was signed out. */
    closeSession(sid: string): number {
      remember(`s:${sid}`);
      const own = bySession.get(sid);
      if (!own) return 0;
      const n = own.size;
      for (const c of [...own]) end(c, 'signed out');
      return n;
    },
    /** The grants with open connections (to re-check after a missed revocation). */
    grants(): string[] {
      return [...byGrant].filter(([, b]) => b.members.size > 0).map(([id]) => id);
    },
    /** The sessions with open connections (to re-check after a missed logout). */
    sessions(): string[] {
      return [...bySession.keys()];
    },
    /** Ends every WebSocket (at shutdown; HTTP responses get the server's grace period instead). */
    closeWebSockets(): void {
      for (const b of byGrant.values()) {
        for (const c of [...b.members]) if (c.kind === 'websocket') end(c, 'shutdown');
      }
    },
    /** Clears every timer (at shutdown). */
    stop(): void {
      for (const b of byGrant.values()) clearTimeout(b.timer);
    },
    /** Open connections now (WebSockets and HTTP responses). */
    get size(): number {
      let n = 0;
      for (const b of byGrant.values()) n += b.members.size;
      return n;
    },
  };
}

export type ConnectionRegistry = ReturnType<typeof createConnectionRegistry>;
