import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type CookieJarRules, readCookie, setCookie } from './cookies.js';

/**
 * A handoff code works only in the browser that left the resource's host to sign in. That host
 * sets a random cookie of its own (`jitgate_bind`, host-only, HttpOnly) before sending the browser
 * to the sign-in host, and the sign-in URL carries the cookie's hash; the handoff records the hash
 * and is refused in a browser without the cookie. Else anyone could send someone their own handoff
 * link and so sign them in, on that host, as themselves (login CSRF: the victim then works, and is
 * audited, as the attacker). The URL holds only the hash, never the cookie.
 */
export const BIND_TTL_SEC = 600;
export const BIND_PARAM = 'bind';

const VALUE = /^[\w-]{43}$/;

export function bindCookieName({ secure }: CookieJarRules): string {
  return secure ? '__Host-jitgate_bind' : 'jitgate_bind';
}

const hashOf = (value: string) => createHash('sha256').update(value).digest('base64url');

/** A `bind` parameter as sent (a hash), or undefined when it is not one. */
export function bindParam(raw: unknown): string | undefined {
  return typeof raw === 'string' && VALUE.test(raw) ? raw : undefined;
}

/**
 * This browser's binding on this host: its cookie's hash (the cookie is kept when the browser has
 * one, so that tabs signing in at once share it) and the Set-Cookie that keeps it 10 minutes.
 */
export function browserBinding(
  rules: CookieJarRules,
  cookieHeader: string | undefined,
): { hash: string; cookie: string } {
  const name = bindCookieName(rules);
  const existing = readCookie(cookieHeader, name);
  const value = existing && VALUE.test(existing) ? existing : randomBytes(32).toString('base64url');
  return { hash: hashOf(value), cookie: setCookie(rules, name, value, { maxAgeSec: BIND_TTL_SEC }) };
}

/** Whether this browser holds the cookie whose hash is `hash`. */
export function holdsBinding(
  rules: CookieJarRules,
  cookieHeader: string | undefined,
  hash: string | undefined,
): boolean {
  const value = readCookie(cookieHeader, bindCookieName(rules));
  if (hash === undefined || value === undefined || !VALUE.test(value)) return false;
  const a = Buffer.from(hashOf(value));
  const b = Buffer.from(hash);
  return a.length === b.length && timingSafeEqual(a, b);
}
