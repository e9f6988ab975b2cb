import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import type { Clock } from '../../shared/clock.js';
import type { RedisKeys } from '../../shared/redis/keys.js';
import type { SigningKeys } from '../../shared/tokens/index.js';
import { type CookieJarRules, readCookie, sessionCookieName, setCookie } from './cookies.js';
import { bareHost } from './hosts.js';
import { Person } from './person.js';
import { seal, unseal } from './seal.js';

const PURPOSE = 'session';

/** A verified session: who signed in, where, and until when (an absolute lifetime, never slid). */
export const Session = z.object({
  /** The IdP's issuer and its subject for the person. */
  idp: z.string().min(1),
  sub: z.string().min(1),
  person: Person,
  name: z.string().optional(),
  email: z.string().optional(),
  /** One id per sign-in, shared by the cookies handed to resource hosts; logout ends it everywhere. */
  sid: z.string().regex(/^[\w-]{22,64}$/),
  /** The bare host this cookie was issued for: presented anywhere else, it is refused. */
  host: z.string().min(1),
  /** Sign-in time and end of the session, in seconds. */
  iat: z.number(),
  /** When the IdP last authenticated the person afresh on jitgate's demand (a step-up sign-in), in seconds. */
  stepUpAt: z.number().optional(),
  exp: z.number(),
});
export type Session = z.infer<typeof Session>;

export type SessionRefusal = 'session_missing' | 'session_invalid' | 'session_expired' | 'session_other_host';

export type SessionOf = { ok: true; session: Session } | { ok: false; reason: SessionRefusal };

export const newSessionId = (): string => randomBytes(18).toString('base64url');

export interface SessionDeps {
  keys: SigningKeys;
  /** JITGATE_PUBLIC_URL: the sealed cookie's issuer. */
  issuer: string;
  cookies: CookieJarRules;
  clock: Clock;
}

/**
 * The `Set-Cookie` value of a session for its host; its Max-Age ends with the session.
 *
 * @example res.setHeader('Set-Cookie', await sessionCookie(deps, session));
 */
export async function sessionCookie(deps: SessionDeps, session: Session): Promise<string> {
  const { iat, exp, ...claims } = session;
  const value = await seal(
    deps.keys,
    PURPOSE,
    claims,
    { issuer: deps.issuer, expiresAtSec: exp, issuedAtSec: iat },
    deps.clock,
  );
  const maxAgeSec = exp - Math.floor(deps.clock.now() / 1000);
  return setCookie(deps.cookies, sessionCookieName(deps.cookies), value, { maxAgeSec });
}

/**
 * The session a request carries for the host it was sent to, or a coded reason why there is none.
 * Pure crypto, no Redis: whether the session was ended by a logout is `hasEnded` over
 * `sessionEndedKey`, which the caller reads in the same round trip as whatever else it needs.
 *
 * @example const found = await sessionOf(req); if (!found.ok) redirectToSignIn(found.reason);
 */
export function createSessionReader(deps: SessionDeps & { cacheSize?: number }) {
  const open = createSessionOpener(deps);
  return async function sessionOf(req: Pick<IncomingMessage, 'headers'>): Promise<SessionOf> {
    return open(req.headers.cookie, req.headers.host);
  };
}

/**
 * The same from a `Cookie` header and a `Host`, for the gate's session check (which has no request
 * object, only what the transport adapter copied). Failures are never cached. A cookie opened
 * before is answered synchronously (no crypto, so nothing to await); a new one as a promise.
 *
 * @example const opened = open(ctx.cookies, ctx.host); const found = opened instanceof Promise ? await opened : opened;
 */
export function createSessionOpener(deps: SessionDeps & { cacheSize?: number }) {
  const name = sessionCookieName(deps.cookies);
  // Opening a cookie (decrypt, then verify) costs about half a millisecond, and browsers send the
  // same one with every request. Opened sessions are kept by their exact cookie text (authenticated,
  // so one text names one session); expiry and host are still checked on every use.
  const opened = new Map<string, Session>();
  const cacheSize = deps.cacheSize ?? 5_000;

  async function openNew(value: string, host: string | undefined): Promise<SessionOf> {
    const unsealed = await unseal(deps.keys, PURPOSE, value, { issuer: deps.issuer }, deps.clock);
    if (!unsealed.ok)
      return { ok: false, reason: unsealed.reason === 'expired' ? 'session_expired' : 'session_invalid' };
    const parsed = Session.safeParse(unsealed.claims);
    if (!parsed.success) return { ok: false, reason: 'session_invalid' };
    if (cacheSize > 0) {
      opened.set(value, parsed.data);
      if (opened.size > cacheSize) opened.delete(opened.keys().next().value as string);
    }
    return onHost(parsed.data, host);
  }

  return function openSession(
    cookieHeader: string | undefined,
    host: string | undefined,
  ): SessionOf | Promise<SessionOf> {
    const value = readCookie(cookieHeader, name);
    if (!value) return NO_SESSION;
    const session = opened.get(value);
    if (session === undefined) return openNew(value, host);
    if (session.exp * 1000 <= deps.clock.now()) {
      opened.delete(value);
      return EXPIRED;
    }
    return onHost(session, host);
  };
}

const NO_SESSION: SessionOf = { ok: false, reason: 'session_missing' };
const EXPIRED: SessionOf = { ok: false, reason: 'session_expired' };
const OTHER_HOST: SessionOf = { ok: false, reason: 'session_other_host' };

function onHost(session: Session, host: string | undefined): SessionOf {
  return session.host === bareHost(host) ? { ok: true, session } : OTHER_HOST;
}

export type SessionOpener = ReturnType<typeof createSessionOpener>;

export type SessionReader = ReturnType<typeof createSessionReader>;

/** The key a logout writes (`{prefix}:session-ended:<sid>`); read it with the request's other keys. */
export function sessionEndedKey(keys: RedisKeys, session: Pick<Session, 'sid'>): string {
  return keys.sessionEnded(session.sid);
}

/** Whether a session was ended by a logout, given what GET returned for its `sessionEndedKey`. */
export function hasEnded(endedReply: string | null | undefined): boolean {
  return endedReply !== null && endedReply !== undefined;
}

/**
 * On the revocations channel (beside grant ids): a session was signed out, so every authorizer
 * closes the WebSockets opened with it.
 */
export function sessionEndedMessage(sid: string): string {
  return `session:${sid}`;
}

/** The session a revocations message names, or undefined for a grant id. */
export function endedSessionOf(message: string): string | undefined {
  return message.startsWith('session:') ? message.slice('session:'.length) : undefined;
}
