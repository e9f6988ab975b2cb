/**
 * Where an HTTP request carries its access token: `Authorization: Bearer` first, then the resource's
 * cookie. Never the query string (see hasTokenInQuery): URLs end up in logs and Referer headers.
 */
import type { Resource } from '../../shared/policy/index.js';
import type { Refusal } from '../refusals.js';
import { outOfOrder, type SyncCheck } from './context.js';
import type { HttpAccess } from './http.js';
import { hasTokenInQuery } from './path.js';

/** The cookie that holds a resource's token after a browser redeem. */
export const cookieNameOf = (resource: string): string => `jitgate_${resource}`;

/** Every jitgate cookie starts with this; none of them is passed to an upstream. */
export const COOKIE_PREFIX = 'jitgate_';

const BEARER = /^Bearer +([^\s,]+) *$/i;

export interface FoundToken {
  token: string;
  from: 'bearer' | 'cookie';
}

export function findToken(
  authorization: string | undefined,
  cookieHeader: string | undefined,
  cookieName: string,
): FoundToken | undefined {
  if (authorization) {
    const m = BEARER.exec(authorization);
    if (m?.[1]) return { token: m[1], from: 'bearer' };
  }
  const fromCookie = cookieValue(cookieHeader, cookieName);
  return fromCookie ? { token: fromCookie, from: 'cookie' } : undefined;
}

/** The value of one cookie in a `Cookie` header (the first one of that name). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = header.length;
    const eq = header.indexOf('=', start);
    if (eq !== -1 && eq < end && header.slice(start, eq).trim() === name) {
      const value = header.slice(eq + 1, end).trim();
      return value === '' ? undefined : value;
    }
    start = end + 1;
  }
  return undefined;
}

/** The `Cookie` header without any jitgate cookie; undefined when nothing else is left. */
export function withoutOurCookies(header: string): string | undefined {
  if (!header.includes(COOKIE_PREFIX)) return header;
  const kept = header
    .split(';')
    .map((c) => c.trim())
    .filter((c) => c !== '' && !isOurs(c));
  return kept.length > 0 ? kept.join('; ') : undefined;
}

/** Sign-in's cookies carry the browser's `__Host-`/`__Secure-` prefixes before ours when https. */
function isOurs(cookie: string): boolean {
  return (
    cookie.startsWith(COOKIE_PREFIX) ||
    cookie.startsWith(`__Host-${COOKIE_PREFIX}`) ||
    cookie.startsWith(`__Secure-${COOKIE_PREFIX}`)
  );
}

const TOKEN_IN_QUERY: Refusal = {
  code: 'token_invalid',
  message: 'Tokens in the query string are not accepted.',
  hint: 'Send the token in an Authorization: Bearer header, or open the redeem link in a browser.',
};

const cookieNames = new WeakMap<Resource, string>();
function cookieNameFor(resource: Resource): string {
  let name = cookieNames.get(resource);
  if (name === undefined) {
    name = cookieNameOf(resource.name);
    cookieNames.set(resource, name);
  }
  return name;
}

/**
 * Credential (HTTP): finds the token for the routed resource and puts it in `ctx.token`, or leaves
 * it unset for the token check to refuse. A token in the query string is refused, not ignored: it
 * is in a URL already (logs, history), and it is never forwarded.
 */
export const credentialCheck: SyncCheck<HttpAccess> = function credential(ctx) {
  const resource = ctx.resource;
  if (resource === undefined) return outOfOrder(ctx, 'credential', 'route');
  if (hasTokenInQuery(ctx.target)) return TOKEN_IN_QUERY;
  const found = findToken(ctx.authorization, ctx.cookies, cookieNameFor(resource));
  if (found) {
    ctx.token = found.token;
    ctx.tokenFrom = found.from;
  }
  return undefined;
};
