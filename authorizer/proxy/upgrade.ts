import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../shared/log.js';
import { messageOf } from '../../shared/messages.js';
import { pathOnly, requestTargetProblem } from '../checks/path.js';
import type { Gate } from '../gate.js';
import { refuseSocket } from '../refusal-response.js';
import { type Refusal, refusal, statusFor } from '../refusals.js';
import type { Upstreams } from './upstream.js';
import type { SocketRegistry } from './websockets.js';

/**
 * The server's `upgrade` listener. An upgrade is checked exactly like a request, before anything is
 * sent to the upstream; a refused one gets a plain HTTP error on the socket (never a 101) and the
 * socket is closed.
 */
export function createUpgradeHandler(deps: {
  gate: Gate;
  upstreams: Upstreams;
  sockets: SocketRegistry;
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
    deps.sockets.track(result.grantId, result.expiresAt, socket, result.session);
    deps.upstreams.upgrade(result.resource, req, socket, head);
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
