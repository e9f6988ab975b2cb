import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { RedisClient } from '../../shared/redis/connect.js';
import type { RedisKeys } from '../../shared/redis/keys.js';
import {
  CALLBACK_PATH,
  type CookieJarRules,
  clearCookie,
  readCookie,
  setCookie,
  transactionCookieName,
  transactionCookieNameOf,
  transactionId,
} from './cookies.js';
import { decryptOnly, encryptOnly } from './seal.js';
import type { SessionDeps } from './session.js';

/**
 * The login transaction: what the callback must check (state, nonce, PKCE verifier) and where the
 * browser goes afterwards. It lives in an encrypted cookie in the browser that started it, sent
 * only to the callback, for 10 minutes; its use is recorded in Redis, so it works once. A callback
 * whose state names no transaction of this browser (login CSRF, another browser's state, a replay
 * after the cookie is gone) finds nothing and is refused. One cookie per transaction (tabs signing
 * in at once), kept small: every pending one rides on the callback request.
 */
export const TRANSACTION_TTL_SEC = 600;
const PURPOSE = 'login';

export const LoginTransaction = z.object({
  state: z.string().min(32),
  nonce: z.string().min(32),
  verifier: z.string().min(43),
  returnTo: z.object({
    host: z.string().min(1),
    path: z.string().startsWith('/'),
    bind: z.string().optional(),
  }),
  /** A step-up sign-in: the IdP was asked to authenticate afresh (max_age), and the answer must show it. */
  stepUp: z.boolean().optional(),
});
export type LoginTransaction = z.infer<typeof LoginTransaction>;

/** On the wire: short names, since every pending transaction rides on the callback request. */
const Wire = z.object({
  s: z.string(),
  n: z.string(),
  v: z.string(),
  h: z.string(),
  p: z.string(),
  b: z.string().optional(),
  u: z.literal(1).optional(),
});

/** A return path longer than this comes back without its query (or as the host's root). */
const MAX_RETURN_PATH = 1024;

function shortened(path: string): string {
  if (path.length <= MAX_RETURN_PATH) return path;
  const bare = path.split('?')[0]!;
  return bare.length <= MAX_RETURN_PATH ? bare : '/';
}

export type TransactionRefusal =
  | 'state_missing'
  | 'transaction_missing'
  | 'transaction_invalid'
  | 'transaction_used';

export type TransactionOf =
  | { ok: true; transaction: LoginTransaction; clear: string }
  | { ok: false; reason: TransactionRefusal; clear?: string };

/**
 * At most this many sign-ins wait in one browser: every pending one rides on the callback request,
 * and some 35 of them (about 475 bytes each) would pass Node's 16 KB header limit, so that the
 * callback of every tab would be refused (431) for 10 minutes — a browser restoring many tabs of
 * protected pages after a night, or a page that starts sign-ins in a loop. Starting another forgets
 * the oldest (that tab signs in again).
 */
export const MAX_PENDING = 8;

/** The ids of the pending transactions, oldest first, in a cookie of its own sent with every page. */
const pendingCookieName = ({ secure }: CookieJarRules) => `${secure ? '__Host-' : ''}jitgate_logins`;
const PENDING_ID = /^[\w-]{16}$/;

/**
 * The `Set-Cookie` values that record one more pending transaction (for `state`) in this browser,
 * and delete the oldest ones beyond MAX_PENDING.
 */
export function limitPending(
  rules: CookieJarRules,
  cookieHeader: string | undefined,
  state: string,
): string[] {
  const id = transactionId(state);
  const listed = (readCookie(cookieHeader, pendingCookieName(rules)) ?? '')
    .split('.')
    .filter((x) => PENDING_ID.test(x) && x !== id);
  const kept = [...listed, id];
  const dropped = kept.splice(0, Math.max(0, kept.length - MAX_PENDING));
  return [
    ...dropped.map((old) => clearCookie(rules, transactionCookieNameOf(rules, old), CALLBACK_PATH)),
    setCookie(rules, pendingCookieName(rules), kept.join('.'), { maxAgeSec: TRANSACTION_TTL_SEC }),
  ];
}

/** At the callback: `state`'s transaction no longer waits (the list is deleted once empty). */
export function settlePending(
  rules: CookieJarRules,
  cookieHeader: string | undefined,
  state: string,
): string[] {
  const listed = readCookie(cookieHeader, pendingCookieName(rules));
  if (listed === undefined) return [];
  const id = transactionId(state);
  const kept = listed.split('.').filter((x) => PENDING_ID.test(x) && x !== id);
  return kept.length === 0
    ? [clearCookie(rules, pendingCookieName(rules))]
    : [setCookie(rules, pendingCookieName(rules), kept.join('.'), { maxAgeSec: TRANSACTION_TTL_SEC })];
}

/** The `Set-Cookie` value that starts a transaction in this browser. */
export async function transactionCookie(deps: SessionDeps, tx: LoginTransaction): Promise<string> {
  const expiresAtSec = Math.floor(deps.clock.now() / 1000) + TRANSACTION_TTL_SEC;
  const wire = {
    s: tx.state,
    n: tx.nonce,
    v: tx.verifier,
    h: tx.returnTo.host,
    p: shortened(tx.returnTo.path),
    ...(tx.returnTo.bind ? { b: tx.returnTo.bind } : {}),
    ...(tx.stepUp ? { u: 1 } : {}),
  };
  const value = await encryptOnly(deps.keys, PURPOSE, wire, { issuer: deps.issuer, expiresAtSec });
  return setCookie(deps.cookies, transactionCookieName(deps.cookies, tx.state), value, {
    maxAgeSec: TRANSACTION_TTL_SEC,
    path: CALLBACK_PATH,
  });
}

/**
 * The transaction a callback's `state` names in this browser, checked without writing anything:
 * its cookie must open and hold that state, and it must not have been used (one read). `clear`
 * deletes its cookie: send it with whatever answer follows. The callback spends it
 * (`spendTransaction`) only once the IdP has answered for a person, so that a callback whose code
 * the IdP refuses (anyone can start a sign-in and send a made-up code) stores nothing.
 */
export async function openTransaction(
  deps: SessionDeps & { redis: RedisClient; redisKeys: RedisKeys },
  state: string | undefined,
  cookieHeader: string | undefined,
): Promise<TransactionOf> {
  if (!state || state.length > 512) return { ok: false, reason: 'state_missing' };
  const name = transactionCookieName(deps.cookies, state);
  const clear = clearCookie(deps.cookies, name, CALLBACK_PATH);
  const value = readCookie(cookieHeader, name);
  if (!value) return { ok: false, reason: 'transaction_missing' };
  const opened = await decryptOnly(deps.keys, PURPOSE, value, { issuer: deps.issuer }, deps.clock);
  const wire = opened.ok ? Wire.safeParse(opened.claims) : undefined;
  const tx = wire?.success
    ? LoginTransaction.safeParse({
        state: wire.data.s,
        nonce: wire.data.n,
        verifier: wire.data.v,
        returnTo: { host: wire.data.h, path: wire.data.p, bind: wire.data.b },
        ...(wire.data.u === 1 ? { stepUp: true } : {}),
      })
    : undefined;
  if (!tx?.success || !same(tx.data.state, state)) return { ok: false, reason: 'transaction_invalid', clear };
  // Throws when Redis is away: the caller refuses (no Redis, no sign-in).
  if ((await deps.redis.exists(deps.redisKeys.loginUsed(stateHash(state)))) === 1) {
    return { ok: false, reason: 'transaction_used', clear };
  }
  return { ok: true, transaction: tx.data, clear };
}

/**
 * Marks an opened transaction used (SET NX, for as long as its cookie could live): true the first
 * time only, so that of two callbacks racing with one state, one signs in. Throws when Redis is away.
 */
export async function spendTransaction(
  deps: { redis: RedisClient; redisKeys: RedisKeys },
  state: string,
): Promise<boolean> {
  const key = deps.redisKeys.loginUsed(stateHash(state));
  return (await deps.redis.set(key, '1', 'EX', TRANSACTION_TTL_SEC, 'NX')) === 'OK';
}

/** Opens the transaction and spends it at once (for callers with nothing to check in between). */
export async function claimTransaction(
  deps: SessionDeps & { redis: RedisClient; redisKeys: RedisKeys },
  state: string | undefined,
  cookieHeader: string | undefined,
): Promise<TransactionOf> {
  const opened = await openTransaction(deps, state, cookieHeader);
  if (!opened.ok || state === undefined) return opened;
  if (!(await spendTransaction(deps, state)))
    return { ok: false, reason: 'transaction_used', clear: opened.clear };
  return opened;
}

const stateHash = (state: string) => createHash('sha256').update(state).digest('base64url');

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
