/**
 * Where an HTTP request carries its access token: `Authorization: Bearer` first, then the resource's
 * cookie where it takes one (takesBrowserCookies). Never the query string (see hasTokenInQuery):
 * URLs end up in logs and Referer headers.
 */
import { type Resource, takesBrowserCookies } from '../../shared/policy/index.js';
import type { Refusal } from '../refusals.js';
import { outOfOrder, refuse, type SyncCheck } from './context.js';
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

/** `cookieName` undefined: the resource takes bearer tokens only. */
export function findToken(
  authorization: string | undefined,
  cookieHeader: string | undefined,
  cookieName: string | undefined,
): FoundToken | undefined {
  if (authorization) {
    const m = BEARER.exec(authorization);
    if (m?.[1]) return { token: m[1], from: 'bearer' };
  }
  if (cookieName === undefined) return undefined;
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
  hint: 'Send the token in an Authorization: Bearer header instead (never in a URL: URLs end up in logs and Referer headers).',
};

/**
 * The cookie that may carry a resource's token, or undefined for a resource that takes bearer
 * tokens only (a pathPrefix resource without `browser: shared-origin`): on the shared origin, a
 * script on any other upstream's page could send that cookie and read the answer.
 */
export function acceptedCookieName(resource: Resource): string | undefined {
  return takesBrowserCookies(resource) ? cookieNameOf(resource.name) : undefined;
}

const cookieNames = new WeakMap<Resource, { name: string | undefined }>();
function cookieNameFor(resource: Resource): string | undefined {
  let entry = cookieNames.get(resource);
  if (entry === undefined) {
    entry = { name: acceptedCookieName(resource) };
    cookieNames.set(resource, entry);
  }
  return entry.name;
}

/**
 * Credential (HTTP): finds the token for the routed resource and puts it in `ctx.token`, or leaves
 * it unset for the token check to refuse (its cookie, sent to a resource that takes bearer tokens
 * only, is refused here as token_missing, naming the reason). A token in the query string is refused, not ignored: it
 * is in a URL already (logs, history), and it is never forwarded.
 */
export const credentialCheck: SyncCheck<HttpAccess> = function credential(ctx) {
  const resource = ctx.resource;
  if (resource === undefined) return outOfOrder(ctx, 'credential', 'route');
  if (hasTokenInQuery(ctx.target)) return TOKEN_IN_QUERY;
  const cookieName = cookieNameFor(resource);
  const found = findToken(ctx.authorization, ctx.cookies, cookieName);
  if (found) {
    ctx.token = found.token;
    ctx.tokenFrom = found.from;
  } else if (cookieName === undefined && cookieValue(ctx.cookies, cookieNameOf(resource.name))) {
    // Said here, where the cookie is seen, so that the refusal tells why it was not taken.
    return refuse(
      ctx,
      'token_missing',
      `${resource.name} does not accept browser cookies, only bearer tokens.`,
    );
  }
  return undefined;
};
