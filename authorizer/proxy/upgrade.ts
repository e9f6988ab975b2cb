import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../shared/log.js';
import { messageOf } from '../../shared/messages.js';
import { pathOnly, requestTargetProblem } from '../checks/path.js';
import type { Gate } from '../gate.js';
import { refuseSocket } from '../refusal-response.js';
import { type Refusal, refusal, statusFor } from '../refusals.js';
import type { ConnectionRegistry, EndReason, OpenConnection } from './connections.js';
import type { Upstreams } from './upstream.js';

/** The refusal for a connection whose access ended (a revoked or expired grant, a logout). */
export function endedRefusal(why: EndReason, context: Parameters<typeof refusal>[1] = {}): Refusal {
  if (why === 'revoked') return refusal('grant_revoked', context);
  if (why === 'expired') return refusal('grant_expired', context);
  if (why === 'signed out') return refusal('token_missing', context, 'You signed out: sign in again.');
  if (why === 'session ended')
    return refusal('token_missing', context, 'Your sign-in session ended: sign in again.');
  return refusal('unavailable', context);
}

/**
 * The server's `upgrade` listener. An upgrade is checked exactly like a request, before anything is
 * sent to the upstream; a refused one gets a plain HTTP error on the socket (never a 101) and the
 * socket is closed. An allowed one is tracked as an open connection of its grant from then on, and
 * its access is read again once the upstream has answered 101, before the client sees the 101: so
 * a revocation at any moment of the handshake ends it (caught by that read, or by the revocation
 * message that follows it).
 */
export function createUpgradeHandler(deps: {
  gate: Gate;
  upstreams: Upstreams;
  connections: ConnectionRegistry;
  /** Reads the grant (and the session) again: why access ended, or undefined while it is live. */
  accessEnded(grantId: string, sid: string | undefined): Promise<EndReason | undefined>;
  log: Logger;
}) {
  return async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const started = performance.now();
    // A client that resets the connection while we check must not crash the process.
    socket.on('error', (err) => deps.log.debug({ err }, 'upgrade socket error'));
    const refuse = (r: Refusal, fields: object = {}) => {
      refuseSocket(socket, r, req.headers.accept);
      deps.log.info(
        {
          ...fields,
          websocket: true,
          method: req.method,
          path: pathOnly(req.url ?? ''),
          status: statusFor(r.code),
        },
        'upgrade refused',
      );
    };

    const problem = requestTargetProblem(req.url ?? '');
    if (problem) return refuse(refusal('bad_path', {}, messageOf('bad_path', { problem })));
    if (req.headers.upgrade?.toLowerCase() !== 'websocket') {
      return refuse(refusal('input_invalid', {}, 'Only WebSocket upgrades are accepted.'));
    }

    let result: Awaited<ReturnType<Gate>>;
    try {
      result = await deps.gate(req, true);
    } catch (err) {
      deps.log.error({ err }, 'upgrade check failed');
      return refuse(refusal('unavailable'));
    }
    if (!result.ok) return refuse(result.refusal, result.decision);
    // The client may have gone while we checked.
    if (socket.destroyed) return;
    const { resource, grantId, session } = result;
    let upstream: Duplex | undefined;
    const open: OpenConnection = {
      kind: 'websocket',
      grantId,
      sid: session?.sid,
      expiresAt: result.expiresAt,
      sessionEndsAt: session?.endsAt,
      end() {
        socket.destroy();
        upstream?.destroy();
      },
    };
    // Revoked between the grant read and now (its message already handled): refused here.
    const ended = deps.connections.track(open);
    if (ended) return refuse(endedRefusal(ended, { resource }), result.decision);
    socket.once('close', () => deps.connections.release(open));
    deps.upstreams.upgrade(resource, req, socket, head, {
      linked(end) {
        upstream = end;
      },
      async confirm() {
        const why = await deps.accessEnded(grantId, session?.sid);
        return why === undefined ? undefined : endedRefusal(why, { resource });
      },
      refuse: (r) => refuse(r, result.decision),
    });
    deps.log.info(
      {
        ...result.decision,
        websocket: true,
        method: req.method,
        ms: Math.round(performance.now() - started),
      },
      'upgrade allowed',
    );
  };
}
