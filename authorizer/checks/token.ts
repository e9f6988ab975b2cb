/**
 * Where a request carries its access token: `Authorization: Bearer` first, then the resource's
 * cookie. Never the query string (see hasTokenInQuery): URLs end up in logs and Referer headers.
 */

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
    .filter((c) => c !== '' && !c.startsWith(COOKIE_PREFIX));
  return kept.length > 0 ? kept.join('; ') : undefined;
}
