import type { Request, Response, Router } from 'express';
import { isWaiting } from '../../shared/asks/index.js';
import { matchResource, takesBrowserCookies } from '../../shared/policy/index.js';
import { safePath } from '../identity/hosts.js';
import type { Session } from '../identity/session.js';
import { prefersHtml } from '../refusal-response.js';
import type { Refusal } from '../refusals.js';
import { type AskDeps, askContext, askerOf } from './context.js';
import { registerAskRoutes } from './routes.js';

export { type AskDeps, askerOf } from './context.js';
export { csrfToken, csrfValid, sameOrigin } from './csrf.js';
export { type FormState, requestForm } from './pages.js';

/** Refusals a request would lift: no access of one's own yet, or access that has ended. */
const OFFERED_FOR = new Set(['token_missing', 'no_grant', 'grant_expired', 'grant_revoked', 'token_expired']);

/**
 * Blocked, request, continue: a signed-in person refused on a resource's page is offered a request
 * form there (`offer`); `POST /_jitgate/ask` checks it (session, Origin, anti-forgery token, the
 * request rules) and queues it for the bot's side, which files it through the same use case as
 * `/access`; `GET /_jitgate/ask` is the page that follows it, polling `/_jitgate/ask/status` (the
 * session's person's own ask only) and going back to the resource once approved.
 *
 * @example const asks = createAsks(deps); asks.register(router); if (await asks.offer(req, res, refused)) return;
 */
export function createAsks(deps: AskDeps) {
  const ctx = askContext(deps);
  const { asks, statusOf, waiting, noAccess } = ctx;
  return {
    /**
     * After the gate refused a browser's page: a signed-in person is offered the form (true when
     * answered). `gateSession` is the session the gate's check opened (its logout already read in
     * the same round trip); without one, the session is read here.
     */
    async offer(req: Request, res: Response, refused: Refusal, gateSession?: Session): Promise<boolean> {
      if (!prefersHtml(req.headers.accept) || req.headers.authorization !== undefined) return false;
      if ((req.method !== 'GET' && req.method !== 'HEAD') || !OFFERED_FOR.has(refused.code)) return false;
      const matched = matchResource(deps.policy(), req.headers.host, req.url);
      const returnPath = safePath(req.url);
      if (!matched || !returnPath || !takesBrowserCookies(matched.resource)) return false;
      try {
        const session = gateSession ?? (await deps.liveSessionOf(req));
        if (!session) return false;
        const { ask } = await asks.read(askerOf(session), matched.resource.name);
        if (ask) {
          const status = await statusOf(ask);
          if (isWaiting(status)) {
            waiting(res, matched.resource, ask, status, 403);
            return true;
          }
        }
        noAccess(res, session, matched.resource, refused.message, returnPath, refused.code);
        return true;
      } catch (err) {
        deps.log.warn({ err }, 'ask: could not offer the request form');
        return false;
      }
    },

    register: (router: Router) => registerAskRoutes(router, ctx),
  };
}

export type Asks = ReturnType<typeof createAsks>;
