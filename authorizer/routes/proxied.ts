import type { IncomingMessage, ServerResponse } from 'node:http';
import { noteDecision } from '../access-log.js';
import { signedInAs } from '../checks/session.js';
import type { Gate, GateResult } from '../gate.js';
import type { ConnectionRegistry, OpenConnection } from '../proxy/connections.js';
import { endedRefusal } from '../proxy/upgrade.js';
import type { Upstreams } from '../proxy/upstream.js';
import { sendRefusal } from '../refusal-response.js';

/** A refused request, as the gate answered it. */
export type Refused = Extract<GateResult, { ok: false }>;

/**
 * Everything that is not /_jitgate, on plain node:http: matched to a resource, authorized, then
 * proxied. The gate has already rewritten the headers and the path when it lets a request through.
 * No body parser runs before this: the body streams to the upstream untouched. Each response under
 * way is an open connection of its grant until it closes, ended like a WebSocket at revocation,
 * expiry or logout (a server-sent event stream, a long download or a long poll does not outlive
 * access).
 */
export function proxiedRequests(deps: {
  gate: Gate;
  upstreams: Upstreams;
  connections: ConnectionRegistry;
  /**
   * With sign-in on: a refusal is answered by Express (refusal-pages.ts), which may send a browser to
   * sign in or offer a signed-in person the request form.
   */
  refusalPage?: ((req: IncomingMessage, res: ServerResponse, refused: Refused) => void) | undefined;
}) {
  return async function proxied(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const result = await deps.gate(req, false);
    noteDecision(res, result.decision);
    if (!result.ok) {
      if (deps.refusalPage) deps.refusalPage(req, res, result);
      else sendRefusal(res, result.refusal, req.headers.accept, result.session && signedInAs(result.session));
      return;
    }
    const { resource, grantId, session } = result;
    const open: OpenConnection = {
      kind: 'http',
      grantId,
      sid: session?.sid,
      expiresAt: result.expiresAt,
      sessionEndsAt: session?.endsAt,
      end: (why) => deps.upstreams.end(req, res, endedRefusal(why, { resource })),
    };
    // Revoked between the grant read and now (its message already handled): refused here.
    const ended = deps.connections.track(open);
    if (ended) {
      sendRefusal(res, endedRefusal(ended, { resource }), req.headers.accept);
      return;
    }
    res.once('close', () => deps.connections.release(open));
    deps.upstreams.web(resource, req, res);
  };
}
