import type { NextFunction, Request, Response } from 'express';
import { signedInAs } from '../checks/session.js';
import type { Gate } from '../gate.js';
import type { Session } from '../identity/session.js';
import type { Upstreams } from '../proxy/upstream.js';
import { sendRefusal } from '../refusal-response.js';
import type { Refusal } from '../refusals.js';

/**
 * Everything that is not /_jitgate: matched to a resource, authorized, then proxied. The gate has
 * already rewritten the headers and the path when it lets a request through. No body parser runs
 * before this: the body streams to the upstream untouched.
 */
export function proxiedRequests(deps: {
  gate: Gate;
  upstreams: Upstreams;
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
    await deps.upstreams.web(result.resource, req, res, next);
  };
}
