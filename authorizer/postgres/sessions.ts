import { randomInt } from 'node:crypto';
import { connect } from 'node:net';
import type { PostgresTarget } from '../../shared/policy/index.js';
import { cancelRequest } from './protocol.js';

/** Why a session was ended by jitgate (not by its client). */
export type CutReason =
  | { why: 'revoked'; by?: string | undefined }
  | { why: 'expired' }
  | { why: 'shutdown' };

/** One open session, as the registry knows it. */
export interface TrackedSession {
  grantId: string;
  /** Ends the session with a FATAL ErrorResponse that says why. */
  cut(reason: CutReason): void;
}

/** The cancel key a client was given, and the upstream session it stands for. */
interface CancelTarget {
  secret: number;
  target: PostgresTarget;
  pid: number;
  upstreamSecret: number;
}

/** setTimeout's limit (about 24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The gateway's open sessions, by grant (a revoke ends them all) with a timer each at the grant's
 * expiry (which ends them with no worker running and no message published), and the cancel keys
 * handed to clients in place of the database's own (so that psql's Ctrl-C, which arrives on a new
 * connection with only that key, reaches the right upstream session and nobody can cancel another's).
 */
export function createSessionRegistry(options: {
  now: () => number;
  /** At a session's expiry timer: is its grant really over (it may have been extended)? Resolves the new expiry, or undefined when over. */
  stillLive: (grantId: string) => Promise<number | undefined>;
}) {
  const byGrant = new Map<string, Set<TrackedSession>>();
  const timers = new Map<TrackedSession, NodeJS.Timeout>();
  const cancels = new Map<number, CancelTarget>();

  function arm(s: TrackedSession, expiresAt: number): void {
    const wait = Math.max(0, expiresAt - options.now());
    const timer = setTimeout(
      () => {
        if (wait > MAX_TIMER_MS) return arm(s, expiresAt);
        options.stillLive(s.grantId).then(
          (later) => {
            if (!timers.has(s)) return;
            if (later !== undefined && later > options.now()) arm(s, later);
            else s.cut({ why: 'expired' });
          },
          // Fail closed: a grant that cannot be confirmed at its expiry is over.
          () => s.cut({ why: 'expired' }),
        );
      },
      Math.min(wait, MAX_TIMER_MS),
    );
    timer.unref();
    timers.set(s, timer);
  }

  return {
    /** Tracks a session until `untrack`; it is cut at its grant's expiry unless the grant was extended. */
    track(s: TrackedSession, expiresAt: number): void {
      let set = byGrant.get(s.grantId);
      if (!set) {
        set = new Set();
        byGrant.set(s.grantId, set);
      }
      set.add(s);
      arm(s, expiresAt);
    },
    untrack(s: TrackedSession): void {
      clearTimeout(timers.get(s));
      timers.delete(s);
      const set = byGrant.get(s.grantId);
      set?.delete(s);
      if (set?.size === 0) byGrant.delete(s.grantId);
    },
    /** Ends every session of a grant; answers how many. */
    cutGrant(grantId: string, reason: CutReason): number {
      const set = byGrant.get(grantId);
      if (!set) return 0;
      const sessions = [...set];
      for (const s of sessions) s.cut(reason);
      return sessions.length;
    },
    cutAll(reason: CutReason): void {
      for (const set of [...byGrant.values()]) for (const s of [...set]) s.cut(reason);
    },
    /** The grants with open sessions (to re-check after a missed revocation). */
    grants(): string[] {
      return [...byGrant.keys()];
    },
    get size(): number {
      let n = 0;
      for (const set of byGrant.values()) n += set.size;
      return n;
    },

    /** A fresh cancel key for the client, standing for the upstream session's. */
    issueCancelKey(
      target: PostgresTarget,
      pid: number,
      upstreamSecret: number,
    ): { pid: number; secret: number } {
      let mine = randomInt(1, 2 ** 31 - 1);
      while (cancels.has(mine)) mine = randomInt(1, 2 ** 31 - 1);
      const secret = randomInt(-(2 ** 31), 2 ** 31 - 1);
      cancels.set(mine, { secret, target, pid, upstreamSecret });
      return { pid: mine, secret };
    },
    forgetCancelKey(pid: number): void {
      cancels.delete(pid);
    },
    /** Cancels whatever the upstream session is running (when jitgate ends it). */
    cancelUpstream(target: PostgresTarget, pid: number, secret: number): void {
      sendCancel(target, pid, secret);
    },
    /** Passes a client's CancelRequest on to its upstream session; answers whether the key was known. */
    cancel(pid: number, secret: number): boolean {
      const found = cancels.get(pid);
      if (!found || found.secret !== secret) return false;
      sendCancel(found.target, found.pid, found.upstreamSecret);
      return true;
    },
  };
}

/** A CancelRequest on a connection of its own, as the protocol wants; the server answers nothing. */
export function sendCancel(target: PostgresTarget, pid: number, secret: number): void {
  const socket = connect({ host: target.host, port: target.port }, () =>
    socket.end(cancelRequest(pid, secret)),
  );
  socket.on('error', () => socket.destroy());
  socket.setTimeout(5_000, () => socket.destroy());
}

export type SessionRegistry = ReturnType<typeof createSessionRegistry>;
