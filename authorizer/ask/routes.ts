import express, { type Request, type Response, type Router } from 'express';
import { type Ask, followedRequest, isWaiting } from '../../shared/asks/index.js';
import { newRequestId } from '../../shared/ids.js';
import { matchResource, takesBrowserCookies } from '../../shared/policy/index.js';
import { safePath } from '../identity/hosts.js';
import { type AskContext, askerOf, json, toWaiting } from './context.js';
import { csrfValid, sameOrigin } from './csrf.js';
import { askFields, checkAsk } from './input.js';
import type { FormState } from './pages.js';

/** How long an ask is kept beyond its request's pendingTimeout, so its page can still read the outcome. */
const KEEP_AFTER_MS = 15 * 60_000;

/**
 * `POST /_jitgate/ask` (the form: session, Origin, anti-forgery token, then the request rules; queued
 * for the bot's side), `GET /_jitgate/ask` (the page that follows an ask) and
 * `GET /_jitgate/ask/status` (its JSON; the session's person's own ask only).
 */
export function registerAskRoutes(router: Router, ctx: AskContext): void {
  const { deps, asks, publicUrl, statusOf, noAccess, waiting, plain, ownAsk } = ctx;
  router.post('/_jitgate/ask', express.urlencoded({ extended: false, limit: '16kb' }), (req, res) =>
    submit(req, res).catch((err: unknown) => failed(res, err)),
  );
  router.get('/_jitgate/ask', (req, res) => follow(req, res).catch((err: unknown) => failed(res, err)));
  router.get('/_jitgate/ask/status', (req, res) =>
    status(req, res).catch((err: unknown) => failedJson(res, err)),
  );

  async function submit(req: Request, res: Response): Promise<void> {
    const session = await deps.liveSessionOf(req);
    if (!session)
      return plain(
        res,
        401,
        'session_missing',
        'Sign in first',
        'Open the resource you want again; jitgate asks you to sign in, then shows the form.',
      );
    if (!sameOrigin(req, publicUrl)) {
      deps.log.warn(
        { origin: req.headers.origin, host: req.headers.host },
        'ask refused: not from this origin',
      );
      return plain(
        res,
        403,
        'csrf_refused',
        'Request refused',
        'This form was sent from another site. Open the resource and use the form on its page.',
      );
    }
    const fields = askFields(req.body);
    if (!csrfValid(deps.keys, session.sid, fields.csrf)) {
      deps.log.warn(
        { host: req.headers.host },
        'ask refused: anti-forgery token missing or not this session’s',
      );
      return plain(
        res,
        403,
        'csrf_refused',
        'Request refused',
        'This form is out of date or not yours. Open the resource again and use the form on its page.',
      );
    }
    const resource = deps.policy().resources.get(fields.resource);
    const returnPath = safePath(fields.return);
    const matched = returnPath ? matchResource(deps.policy(), req.headers.host, returnPath) : undefined;
    if (
      !resource ||
      !returnPath ||
      matched?.resource.name !== resource.name ||
      !takesBrowserCookies(resource)
    ) {
      return plain(
        res,
        400,
        'input_invalid',
        'Request refused',
        'This form does not name a resource served here. Open the resource again and use the form on its page.',
      );
    }
    const checked = checkAsk(resource, fields);
    if (!checked.ok) {
      const state: FormState = {
        role: fields.role,
        duration: fields.duration,
        reason: fields.reason,
        error: { field: checked.field, message: checked.message },
      };
      return noAccess(
        res,
        session,
        resource,
        'Your request was not sent: fix the field below.',
        returnPath,
        'input_invalid',
        state,
        400,
      );
    }
    const asker = askerOf(session);
    const read = await asks.read(asker, resource.name);
    if (read.ask && isWaiting(await statusOf(read.ask))) return toWaiting(res, resource, read.ask);
    const ask: Ask = {
      id: newRequestId(),
      asker,
      resource: resource.name,
      sid: session.sid,
      returnTo: returnPath,
      at: deps.clock.now(),
    };
    if (!(await asks.replace(read.raw, ask, resource.pendingTimeoutMs + KEEP_AFTER_MS))) {
      // Another submit won the race: follow the request it filed.
      const now = await asks.read(asker, resource.name);
      if (now.ask) return toWaiting(res, resource, now.ask);
      return plain(
        res,
        409,
        'request_exists',
        'Try again',
        'Another request was being filed at the same moment. Open the resource again.',
      );
    }
    try {
      await deps.scheduler.askFiled({
        requestId: ask.id,
        asker,
        resource: resource.name,
        role: checked.role,
        durationMs: checked.durationMs,
        reason: checked.reason,
      });
    } catch (err) {
      // Not queued: the ask must not stay "queued", where it would never move and would stand in
      // for a new one (one at a time) until it expired. Refused, the next visit offers the form.
      await asks
        .note(JSON.stringify(ask), { ...ask, refused: 'Your request could not be sent; ask again.' })
        .catch(() => undefined);
      throw err;
    }
    deps.log.info(
      { requestId: ask.id, resource: resource.name, sid: session.sid },
      'access asked for on a page',
    );
    toWaiting(res, resource, ask);
  }

  async function follow(req: Request, res: Response): Promise<void> {
    const found = await ownAsk(req);
    if (found === 'no_session')
      return plain(
        res,
        401,
        'session_missing',
        'Sign in first',
        'Open the resource you want again; jitgate asks you to sign in.',
      );
    if (found === 'unknown')
      return plain(
        res,
        404,
        'no_such_request',
        'No such request',
        'This request is unknown, over, or not yours.',
      );
    waiting(res, found.resource, found.ask, await statusOf(found.ask), 200);
  }

  async function status(req: Request, res: Response): Promise<void> {
    const found = await ownAsk(req);
    if (found === 'no_session')
      return json(res, 401, { error: 'session_missing', message: 'Sign in first.' });
    if (found === 'unknown')
      return json(res, 404, {
        error: 'no_such_request',
        message: 'This request is unknown, over, or not yours.',
      });
    const s = await statusOf(found.ask);
    json(res, 200, {
      ...s,
      requestId: followedRequest(found.ask),
      ...(isWaiting(s) ? {} : { back: found.ask.returnTo }),
    });
  }

  function failed(res: Response, err: unknown): void {
    deps.log.warn({ err }, 'ask: could not complete');
    if (!res.headersSent)
      plain(
        res,
        503,
        'unavailable',
        'Try again in a moment',
        'jitgate cannot reach its store right now, so nothing was sent.',
      );
  }

  function failedJson(res: Response, err: unknown): void {
    deps.log.warn({ err }, 'ask: could not read the status');
    if (!res.headersSent)
      json(res, 503, { error: 'unavailable', message: 'jitgate cannot reach its store right now.' });
  }
}
