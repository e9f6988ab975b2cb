import type { NextFunction, Request, Response } from 'express';
import { signedInAs } from '../checks/session.js';
import type { Gate } from '../gate.js';
import type { Session } from '../identity/session.js';
import type { ConnectionRegistry, OpenConnection } from '../proxy/connections.js';
import { endedRefusal } from '../proxy/upgrade.js';
import type { Upstreams } from '../proxy/upstream.js';
import { sendRefusal } from '../refusal-response.js';
import type { Refusal } from '../refusals.js';

/**
 * Everything that is not /_jitgate: matched to a resource, authorized, then proxied. The gate has
 * already rewritten the headers and the path when it lets a request through. No body parser runs
 * before this: the body streams to the upstream untouched. Each response under way is an open
 * connection of its grant until it closes, ended like a WebSocket at revocation, expiry or logout
 * (a server-sent event stream, a long download or a long poll does not outlive access).
 */
export function proxiedRequests(deps: {
  gate: Gate;
  upstreams: Upstreams;
  connections: ConnectionRegistry;
  /** With sign-in on: sends a browser refused for want of a session to sign in (true when it did). */
  sendToSignIn?: ((req: Request, res: Response) => Promise<boolean>) | undefined;
  /** With sign-in on: answers a signed-in person's refused page with the request form (true when it did). */
  offerRequest?:
    | ((req: Request, res: Response, refused: Refusal, session: Session | undefined) => Promise<boolean>)
    | undefined;
}) {
  return async function proxied(req: Request, res: Response, next: NextFunction): Promise<void> {
    const result = await deps.gate(req, false);
    res.locals.decision = result.decision;
    if (!result.ok) {
      if (result.signInNeeded && deps.sendToSignIn && (await deps.sendToSignIn(req, res))) return;
      if (deps.offerRequest && (await deps.offerRequest(req, res, result.refusal, result.session))) return;
      sendRefusal(res, result.refusal, req.headers.accept, result.session && signedInAs(result.session));
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
    if (!deps.connections.track(open)) {
      sendRefusal(res, endedRefusal('revoked', { resource }), req.headers.accept);
      return;
    }
    res.once('close', () => deps.connections.release(open));
    await deps.upstreams.web(resource, req, res, next);
  };
}
