import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { signedInAs } from '../checks/session.js';
import type { Session } from '../identity/session.js';
import { sendRefusal } from '../refusal-response.js';
import type { Refusal } from '../refusals.js';
import type { Refused } from './proxied.js';

/**
 * With sign-in on, a refused proxied request is answered in Express, where sign-in and the request
 * form live: a browser refused for want of a session is sent to sign in, a signed-in person's
 * refused page offers the request form, anything else gets the refusal. The decision was made
 * (and recorded) on the node:http path; it is handed over with the request, never made again.
 *
 * @example const pages = refusalPages({ sendToSignIn, offerRequest }); app.use(pages.middleware); pages.answer(app, req, res, refused);
 */
export function refusalPages(deps: {
  /** Sends a browser refused for want of a session to sign in (true when it did). */
  sendToSignIn?: ((req: Request, res: Response) => Promise<boolean>) | undefined;
  /** Answers a signed-in person's refused page with the request form (true when it did). */
  offerRequest?:
    | ((req: Request, res: Response, refused: Refusal, session: Session | undefined) => Promise<boolean>)
    | undefined;
}) {
  const handed = new WeakMap<IncomingMessage, Refused>();
  return {
    /** Hands a refused request to Express (`app`), whose first middleware is `middleware`. */
    answer(
      app: (req: IncomingMessage, res: ServerResponse) => void,
      req: IncomingMessage,
      res: ServerResponse,
      refused: Refused,
    ): void {
      handed.set(req, refused);
      app(req, res);
    },
    /** Express's first middleware: answers a handed-over refusal; anything else goes on to the routes. */
    async middleware(req: Request, res: Response, next: NextFunction): Promise<void> {
      const result = handed.get(req);
      if (result === undefined) {
        next();
        return;
      }
      handed.delete(req);
      if (result.signInNeeded && deps.sendToSignIn && (await deps.sendToSignIn(req, res))) return;
      if (deps.offerRequest && (await deps.offerRequest(req, res, result.refusal, result.session))) return;
      sendRefusal(res, result.refusal, req.headers.accept, result.session && signedInAs(result.session));
    },
  };
}
