import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SignInContext } from './context.js';
import { CALLBACK_PATH } from './cookies.js';
import { createHandoff } from './handoff.js';
import { originOf, type ReturnTo, returnUrl } from './hosts.js';
import { SignInFailure } from './idp.js';
import { personFrom } from './person.js';
import { redirect, sendSignIn } from './respond.js';
import { newSessionId, type Session, sessionCookie } from './session.js';
import {
  limitPending,
  openTransaction,
  settlePending,
  spendTransaction,
  type TransactionRefusal,
  transactionCookie,
} from './transaction.js';

const AGAIN = 'Open the page you wanted again to sign in afresh.';

const TRANSACTION_MESSAGES: Record<TransactionRefusal, string> = {
  state_missing: 'The sign-in answer carried no state, so it was refused.',
  transaction_missing:
    'This sign-in was not started in this browser, or it took more than 10 minutes; it was refused.',
  transaction_invalid:
    'This sign-in answer does not belong to the sign-in this browser started; it was refused.',
  transaction_used: 'This sign-in answer was already used; it was refused.',
};

/** Sends the browser to the IdP, with a fresh transaction cookie for the way back to `to`. */
export async function startSignIn(
  ctx: SignInContext,
  req: IncomingMessage,
  res: ServerResponse,
  to: ReturnTo,
  opts: { stepUp?: boolean } = {},
): Promise<void> {
  let start: Awaited<ReturnType<SignInContext['idp']['begin']>>;
  try {
    start = await ctx.idp.begin(opts);
  } catch (err) {
    ctx.log.error({ err, issuer: ctx.idp.issuer }, 'sign-in: the identity provider cannot be reached');
    sendSignIn(res, req.headers.accept, {
      code: 'signin_unavailable',
      message: 'jitgate cannot reach the identity provider right now.',
      hint: 'Try again in a minute; if it keeps failing, tell the jitgate operators.',
    });
    return;
  }
  const { state, nonce, verifier } = start;
  const cookie = await transactionCookie(ctx, {
    state,
    nonce,
    verifier,
    returnTo: to,
    ...(opts.stepUp ? { stepUp: true } : {}),
  });
  redirect(res, start.url.href, [cookie, ...limitPending(ctx.cookies, req.headers.cookie, state)]);
}

/**
 * `GET /_jitgate/oauth2/callback`: the browser's transaction must match the state, then
 * openid-client exchanges the code (PKCE) and checks the ID token (issuer, audience, expiry, nonce,
 * signature); the person it names becomes the session. Any failure is refused with a page that
 * says why. The transaction is spent (one Redis key, until its cookie would have expired) only once
 * the IdP answered for a person; a refused callback writes nothing, and its cookie is cleared.
 */
export async function handleCallback(
  ctx: SignInContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const accept = req.headers.accept;
  // The URL the IdP sent the browser to, as registered: the public URL, never the Host header.
  const url = req.url ?? '/';
  const callbackUrl = new URL(
    `${CALLBACK_PATH}${url.includes('?') ? url.slice(url.indexOf('?')) : ''}`,
    ctx.publicUrl,
  );
  const query = callbackUrl.searchParams;
  let claimed: Awaited<ReturnType<typeof openTransaction>>;
  try {
    claimed = await openTransaction(ctx, query.get('state') ?? undefined, req.headers.cookie);
  } catch (err) {
    ctx.log.warn({ err }, 'sign-in: could not record the transaction');
    return unavailable(req, res);
  }
  const state = query.get('state');
  const cleared = [
    ...(claimed.clear ? [claimed.clear] : []),
    ...(state ? settlePending(ctx.cookies, req.headers.cookie, state) : []),
  ];
  if (!claimed.ok) {
    ctx.log.warn({ reason: claimed.reason }, 'sign-in refused');
    sendSignIn(
      res,
      accept,
      { code: 'signin_failed', message: TRANSACTION_MESSAGES[claimed.reason], hint: AGAIN },
      cleared,
    );
    return;
  }
  const tx = claimed.transaction;

  let claims: Record<string, unknown>;
  try {
    claims = await ctx.idp.finish(callbackUrl, tx);
  } catch (err) {
    const failure = err instanceof SignInFailure ? err : undefined;
    ctx.log.warn(
      { reason: failure?.message ?? 'unknown', issuer: ctx.idp.issuer },
      'sign-in refused by its checks',
    );
    if (failure?.reason === 'idp_unreachable') return unavailable(req, res, cleared);
    sendSignIn(
      res,
      accept,
      { code: 'signin_failed', message: failure?.message ?? 'Sign-in did not complete.', hint: AGAIN },
      cleared,
    );
    return;
  }
  // Spent only now, once the IdP has answered for a person: a made-up code stores nothing.
  let first: boolean;
  try {
    first = await spendTransaction(ctx, tx.state);
  } catch (err) {
    ctx.log.warn({ err }, 'sign-in: could not record the transaction');
    return unavailable(req, res, cleared);
  }
  if (!first) {
    ctx.log.warn({ reason: 'transaction_used' }, 'sign-in refused');
    const message = TRANSACTION_MESSAGES.transaction_used;
    sendSignIn(res, accept, { code: 'signin_failed', message, hint: AGAIN }, cleared);
    return;
  }

  const found = personFrom(ctx.matchBy, claims);
  if (!found.ok) {
    ctx.log.warn({ reason: found.reason, issuer: ctx.idp.issuer }, 'sign-in refused: no person to match');
    sendSignIn(res, accept, { code: 'signin_refused', message: found.message, hint: AGAIN }, cleared);
    return;
  }
  const now = Math.floor(ctx.clock.now() / 1000);
  const session: Session = {
    idp: ctx.idp.issuer,
    sub: String(claims.sub),
    person: found.person,
    ...(found.name ? { name: found.name } : {}),
    ...(found.email ? { email: found.email } : {}),
    sid: newSessionId(),
    host: ctx.signInHost,
    iat: now,
    exp: now + Math.floor(ctx.sessionTtlMs / 1000),
    // Checked by openid-client against max_age: the IdP authenticated the person just now.
    ...(tx.stepUp && typeof claims.auth_time === 'number' ? { stepUpAt: claims.auth_time } : {}),
  };
  ctx.log.info({ sid: session.sid, person: found.person, issuer: ctx.idp.issuer }, 'signed in');
  await continueTo(ctx, req, res, session, tx.returnTo, [...cleared, await sessionCookie(ctx, session)]);
}

/**
 * With a session on the sign-in host, goes on to `to`: directly when it is on this host, else
 * through a one-time handoff to the resource's host, which sets that host's own cookie.
 */
export async function continueTo(
  ctx: SignInContext,
  req: IncomingMessage,
  res: ServerResponse,
  session: Session,
  to: ReturnTo,
  cookies: string[] = [],
): Promise<void> {
  if (to.host === ctx.signInHost) {
    redirect(res, returnUrl(ctx.publicUrl, to), cookies);
    return;
  }
  let code: string;
  try {
    code = await createHandoff(ctx.redis, ctx.redisKeys, { ...session, host: to.host }, to);
  } catch (err) {
    ctx.log.warn({ err }, 'sign-in: could not store the handoff');
    return unavailable(req, res, cookies);
  }
  redirect(res, `${originOf(ctx.publicUrl, to.host)}/_jitgate/session?code=${code}`, cookies);
}

export function unavailable(req: IncomingMessage, res: ServerResponse, cookies: string[] = []): void {
  sendSignIn(
    res,
    req.headers.accept,
    {
      code: 'signin_unavailable',
      message: 'jitgate cannot complete sign-in right now, so it refuses.',
      hint: 'Try again shortly.',
    },
    cookies,
  );
}
