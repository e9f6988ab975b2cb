import type { IncomingMessage } from 'node:http';
import type { Request, Response, Router } from 'express';
import { matchResource } from '../../shared/policy/index.js';
import { prefersHtml } from '../refusal-response.js';
import { BIND_PARAM, bindParam, browserBinding, holdsBinding } from './bind.js';
import type { SignInContext } from './context.js';
import { clearCookie, sessionCookieName } from './cookies.js';
import { consumeHandoff } from './handoff.js';
import {
  allowedHosts,
  bareHost,
  originOf,
  parseReturnTo,
  type ReturnTo,
  returnUrl,
  safePath,
} from './hosts.js';
import { continueTo, handleCallback, startSignIn, unavailable } from './login.js';
import { redirect, sendSignIn } from './respond.js';
import { hasEnded, type Session, sessionCookie, sessionEndedKey, sessionEndedMessage } from './session.js';

/** The session of a request when it is valid here and not ended by a logout; throws without Redis. */
export async function liveSessionOf(
  ctx: SignInContext,
  req: Pick<IncomingMessage, 'headers'>,
): Promise<Session | undefined> {
  const found = await ctx.sessionOf(req);
  if (!found.ok) return undefined;
  const ended = await ctx.redis.get(sessionEndedKey(ctx.redisKeys, found.session));
  return hasEnded(ended) ? undefined : found.session;
}

/** `/_jitgate/signin`, the callback, `/_jitgate/logout` and the host handoff `/_jitgate/session`. */
export function registerSignIn(router: Router, ctx: SignInContext): void {
  router.get('/_jitgate/oauth2/callback', (req, res) => handleCallback(ctx, req, res));
  router.get('/_jitgate/signin', (req, res) => signIn(ctx, req, res));
  router.get('/_jitgate/session', (req, res) => handoff(ctx, req, res));
  // GET too, so that a plain link signs out; a forged cross-site logout only signs someone out.
  router.get('/_jitgate/logout', (req, res) => logout(ctx, req, res));
  router.post('/_jitgate/logout', (req, res) => logout(ctx, req, res));
}

/**
 * After the gate refused a request for want of a session (none, expired, for another host, or
 * ended by a logout): a browser (Accept: text/html) asking a resource for a page (GET or HEAD) is
 * sent to sign in and brought back to the URL it asked for; answers false for anything else (API
 * clients, bearer tokens), which gets the refusal as before. The gate read the session and its
 * logout key already, so this makes no Redis call of its own.
 */
export function signInInstead(ctx: SignInContext) {
  const back = signInThenBack(ctx);
  return async function sendToSignIn(req: Request, res: Response): Promise<boolean> {
    if (
      !prefersHtml(req.headers.accept) ||
      req.headers.authorization !== undefined ||
      (req.method !== 'GET' && req.method !== 'HEAD')
    ) {
      return false;
    }
    if (!matchResource(ctx.policy(), req.headers.host, req.url)) return false;
    return back(req, res);
  };
}

/**
 * Sends a browser to sign in and back to the URL it asked for on this host (any of jitgate's hosts:
 * a resource, or the redeem link on the public one). False when that URL cannot be returned to.
 */
export function signInThenBack(ctx: SignInContext) {
  return async function sendToSignIn(req: Request, res: Response): Promise<boolean> {
    const host = bareHost(req.headers.host);
    const path = safePath(req.originalUrl ?? req.url);
    if (!path || !allowedHosts(ctx.publicUrl, ctx.policy()).has(host)) return false;
    const to: ReturnTo = { host, path };
    if (host === ctx.signInHost) {
      await startSignIn(ctx, req, res, to);
      return true;
    }
    // Sign-in happens on the public host (the only redirect URI), which then hands the session back.
    // The handoff back will work only in this browser: it takes this host's binding cookie.
    const binding = browserBinding(ctx.cookies, req.headers.cookie);
    const start = new URL('/_jitgate/signin', ctx.publicUrl);
    start.searchParams.set('return', returnUrl(ctx.publicUrl, to));
    start.searchParams.set(BIND_PARAM, binding.hash);
    redirect(res, start.href, [binding.cookie]);
    return true;
  };
}

async function signIn(ctx: SignInContext, req: Request, res: Response): Promise<void> {
  const raw = typeof req.query.return === 'string' ? req.query.return : '/';
  const to = parseReturnTo(raw, ctx.publicUrl, allowedHosts(ctx.publicUrl, ctx.policy()));
  if (!to) {
    sendSignIn(res, req.headers.accept, {
      code: 'return_invalid',
      message: 'Sign-in only returns to this service and the resources it protects; that target was refused.',
      hint: 'Open the resource you want directly; jitgate asks you to sign in when needed.',
    });
    return;
  }
  if (bareHost(req.headers.host) !== ctx.signInHost) {
    const binding = browserBinding(ctx.cookies, req.headers.cookie);
    const here = new URL('/_jitgate/signin', ctx.publicUrl);
    here.searchParams.set('return', returnUrl(ctx.publicUrl, to));
    here.searchParams.set(BIND_PARAM, binding.hash);
    return redirect(res, here.href, [binding.cookie]);
  }
  if (to.host !== ctx.signInHost) {
    // A handoff to another host needs that host's binding cookie in this browser: fetch it first.
    const bind = bindParam(req.query[BIND_PARAM]);
    if (bind === undefined) {
      const there = new URL(`${originOf(ctx.publicUrl, to.host)}/_jitgate/signin`);
      there.searchParams.set('return', returnUrl(ctx.publicUrl, to));
      return redirect(res, there.href);
    }
    to.bind = bind;
  }
  let session: Session | undefined;
  try {
    session = await liveSessionOf(ctx, req);
  } catch {
    return unavailable(req, res);
  }
  if (session) return continueTo(ctx, req, res, session, to);
  return startSignIn(ctx, req, res, to);
}

/** `/_jitgate/session?code=` on a resource's host: the one-time handoff sets this host's cookie. */
async function handoff(ctx: SignInContext, req: Request, res: Response): Promise<void> {
  const code = typeof req.query.code === 'string' ? req.query.code : '';
  const host = bareHost(req.headers.host);
  try {
    const found = await consumeHandoff(ctx.redis, ctx.redisKeys, code, host, (hash) =>
      holdsBinding(ctx.cookies, req.headers.cookie, hash),
    );
    if (!found.ok) {
      ctx.log.warn({ reason: found.reason, host }, 'sign-in handoff refused');
      sendSignIn(res, req.headers.accept, {
        code: 'code_unknown',
        message: 'This sign-in link is unknown, used, expired, or for another host or browser.',
        hint: 'Open the resource you want again; jitgate signs you in when needed.',
      });
      return;
    }
    const ended = await ctx.redis.get(sessionEndedKey(ctx.redisKeys, found.session));
    if (hasEnded(ended) || found.session.exp * 1000 <= ctx.clock.now()) {
      sendSignIn(res, req.headers.accept, {
        code: 'code_unknown',
        message: 'The session this link was for has ended.',
        hint: 'Open the resource you want again to sign in afresh.',
      });
      return;
    }
    redirect(res, returnUrl(ctx.publicUrl, { host, path: found.path }), [
      await sessionCookie(ctx, found.session),
    ]);
  } catch (err) {
    ctx.log.warn({ err }, 'sign-in: could not read the handoff');
    unavailable(req, res);
  }
}

/** Ends the session on every host (server-side, for its remaining lifetime) and clears this host's cookie. */
async function logout(ctx: SignInContext, req: Request, res: Response): Promise<void> {
  const clear = clearCookie(ctx.cookies, sessionCookieName(ctx.cookies));
  const found = await ctx.sessionOf(req);
  if (found.ok) {
    const remainingMs = found.session.exp * 1000 - ctx.clock.now();
    try {
      if (remainingMs > 0) {
        // Ended for every later request, and every authorizer closes the sockets opened with it.
        const done = await ctx.redis
          .multi()
          .set(sessionEndedKey(ctx.redisKeys, found.session), '1', 'PX', remainingMs)
          .publish(ctx.redisKeys.revocations, sessionEndedMessage(found.session.sid))
          .exec();
        if (!done || done.some(([err]) => err)) throw new Error('the logout was not recorded');
      }
    } catch (err) {
      ctx.log.warn({ err }, 'sign-in: could not end the session');
      return unavailable(req, res, [clear]);
    }
    ctx.log.info({ sid: found.session.sid }, 'signed out');
  }
  sendSignIn(
    res,
    req.headers.accept,
    {
      code: 'signed_out',
      message: 'You are signed out of jitgate.',
      hint: 'Close this tab, or open a resource to sign in again.',
    },
    [clear],
  );
}
